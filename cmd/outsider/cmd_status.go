package main

import (
	"bufio"
	"context"
	"encoding/json"
	"time"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/watch"
)

// StatusOptions are the flags of 'outsider status'.
type StatusOptions struct {
	State  string
	Format string
}

const statusUsage = `Usage: outsider status --archive DIR [--format text|json]

Shows the state of live collection: per source the end of the last window
collected and how far behind now it is (lag), blobs and records archived,
content that expired or was quarantined; the last collect and watch runs;
and the identities with open findings (reported and not disposed of).

Exit status: 0 done; 1 error; 2 usage.

Flags:
`

// timeNow is the clock of status and dispose.
var timeNow = time.Now

func runStatusCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	fs := newFlagSet("status", statusUsage, ios.Out)
	archive := fs.String("archive", "", "the archive folder (default: $OUTSIDER_ARCHIVE)")
	statePath := fs.String("state", "", "the state database (default: ARCHIVE/.outsider/state.db)")
	format := fs.String("format", "text", "text or json")
	pos, err := parseArgs(fs, "status", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("status", "unexpected argument %q: name the archive with --archive", pos[0])
	}
	if *format != "text" && *format != "json" {
		return usagef("status", "--format %q: want text or json", *format)
	}
	o := &StatusOptions{Format: *format}
	if o.State, err = statePathFor("status", *archive, *statePath); err != nil {
		return err
	}
	return runStatus(ctx, ios, o)
}

func runStatus(ctx context.Context, ios *iostreams.IOStreams, o *StatusOptions) error {
	st, err := state.Open(ctx, o.State)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := watch.GetStatus(ctx, st, timeNow())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(ios.Out)
	if o.Format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return err
		}
	} else if err := watch.WriteText(w, s, report.Clean); err != nil {
		return err
	}
	return w.Flush()
}
