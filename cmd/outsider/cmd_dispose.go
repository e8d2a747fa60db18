package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/watch"
)

// DisposeOptions are the flags and argument of 'outsider dispose'.
type DisposeOptions struct {
	User  string
	As    string
	Note  string
	State string
}

const disposeUsage = `Usage: outsider dispose USER --as benign|malicious [--note TEXT] --archive DIR

Records an analyst's decision about an outside identity that 'outsider
watch' reported. The identity stays quiet (no finding) until new activity
makes its verdict worse than the verdict it had when disposed of; then it
is reported again, with this disposition, and is open once more.

USER is the identity as findings name it (any case).

Exit status: 0 done; 1 error (no such identity in the state); 2 usage.

Flags:
`

func runDisposeCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	opts, err := parseDisposeFlags(ios, args)
	if err != nil {
		return err
	}
	return runDispose(ctx, ios, opts)
}

func parseDisposeFlags(ios *iostreams.IOStreams, args []string) (*DisposeOptions, error) {
	fs := newFlagSet("dispose", disposeUsage, ios.Out)
	archive := fs.String("archive", "", "the archive folder (default: $OUTSIDER_ARCHIVE)")
	statePath := fs.String("state", "", "the state database (default: ARCHIVE/.outsider/state.db)")
	as := fs.String("as", "", "the decision: benign or malicious")
	note := fs.String("note", "", "why (kept with the decision and repeated if it is reopened)")
	pos, err := parseArgs(fs, "dispose", args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, usagef("dispose", "name one identity (USER)")
	}
	if *as != watch.Benign && *as != watch.Malicious {
		return nil, usagef("dispose", "--as %q: want benign or malicious", *as)
	}
	o := &DisposeOptions{User: pos[0], As: *as, Note: *note}
	if o.State, err = statePathFor("dispose", *archive, *statePath); err != nil {
		return nil, err
	}
	return o, nil
}

// statePathFor finds the state database of dispose and status, which
// must exist already (they never create one).
func statePathFor(cmd, archive, statePath string) (string, error) {
	if statePath == "" {
		dir, err := archiveDir(cmd, archive, "")
		if err != nil {
			return "", err
		}
		statePath = collect.StatePath(dir)
	}
	if _, err := os.Stat(statePath); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no state database at %s: run 'outsider collect' or 'outsider watch' on the archive first", statePath)
	}
	return statePath, nil
}

func runDispose(ctx context.Context, ios *iostreams.IOStreams, o *DisposeOptions) error {
	st, err := state.Open(ctx, o.State)
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := watch.Dispose(ctx, st, o.User, o.As, o.Note, timeNow())
	if errors.Is(err, state.ErrUnknownIdentity) {
		return fmt.Errorf("%w; 'outsider status' lists the identities with open findings", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(ios.Out, "%s disposed of as %s at verdict %s (%s); it stays quiet until its verdict gets worse\n",
		report.Clean(id.User), id.Disposition, id.DisposedVerdict, id.DisposedSeverity)
	return nil
}
