package main

import (
	"bufio"
	"context"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/watch"
)

// StatusOptions are the flags of 'outsider status'.
type StatusOptions struct {
	State  string
	Format string
}

const statusLong = `Shows the state of live collection: per source the end of the last window
collected and how far behind now it is (lag), blobs and records archived,
content that expired or was quarantined; the last collect and watch runs;
the identities with open findings (reported and not disposed of); how
many identities watch holds back (below --min-severity, or of a home
tenant disposed of as benign); and the tenants disposed of.

Exit status: 0 done; 1 error; 2 usage.`

// timeNow is the clock of status and dispose.
var timeNow = time.Now

func newCmdStatus(f *factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	o := &StatusOptions{}
	var a archiveFlags
	cmd := &cobra.Command{
		Use:   "status --archive DIR [--format text|json]",
		Short: "show live collection's progress, lag and open findings",
		Long:  statusLong,
		Args:  noArgs("status", ": name the archive with --archive"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Format = enumValue(o.Format)
			if o.Format != "text" && o.Format != "json" {
				return usagef("status", "--format %q: want text or json", o.Format)
			}
			var err error
			if o.State, err = statePathFor("status", f.Getenv, a); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runStatus(cmd.Context(), f.IO, o)
		},
	}
	a.add(cmd.Flags())
	addFormatFlag(cmd, &o.Format, "text", []string{"text", "json"}, "output `format`: text or json")
	return cmd
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
	} else if err := watch.WriteText(w, s, textsafe.Terminal); err != nil {
		return err
	}
	return w.Flush()
}
