package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/explain"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/tenant"
)

// ExplainOptions are the flags and arguments of 'outsider explain'.
type ExplainOptions struct {
	Path    string
	ID      string
	Tenants []string
}

const explainUsage = `Usage: outsider explain [flags] [FILE]

Walks one audit record field by field in plain language: the Actor, the
UPN, the application and whether it is Microsoft first-party, the result,
the RecordType, the actor's tenant against ours, and what it all means.
FILE may be any format triage reads (default: stdin). When it holds more
than one record, choose one with --id.

Exit status: 0 done; 1 error (no such record); 2 usage.

Flags:
`

var errStopRead = errors.New("record found")

func runExplainCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	fs := newFlagSet("explain", explainUsage, ios.Out)
	id := fs.String("id", "", "the Id of the record to explain")
	var tenants listFlag
	fs.Var(&tenants, "tenant", "our tenant id (repeatable); default: the record's OrganizationId")
	pos, err := parseArgs(fs, "explain", args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("explain", "give one FILE (or none for stdin)")
	}
	for _, t := range tenants {
		if err := tenant.ValidateID(t); err != nil {
			return usagef("explain", "--tenant: %s", err)
		}
	}
	o := &ExplainOptions{Path: "-", ID: strings.TrimSpace(*id), Tenants: tenants}
	if len(pos) == 1 {
		o.Path = pos[0]
	}
	return runExplain(ctx, ios, o)
}

func runExplain(ctx context.Context, ios *iostreams.IOStreams, o *ExplainOptions) error {
	var (
		found   []byte
		count   int
		lastErr error
		dec     audit.Decoder
		ev      audit.Event
		scratch []byte
	)
	emit := func(b *source.Batch) error {
		defer b.Release()
		for i := range b.Records {
			js, s2, err := b.JSON(i, scratch[:0])
			scratch = s2
			if err != nil {
				continue
			}
			count++
			if o.ID == "" {
				if count == 1 {
					found = bytes.Clone(js)
				}
				continue
			}
			if dec.Decode(js, &ev) == nil && strings.EqualFold(string(ev.ID), o.ID) {
				found = bytes.Clone(js)
				return errStopRead
			}
		}
		return nil
	}
	problem := func(p source.Problem) {
		if !p.Warning {
			lastErr = p
		}
	}
	paths := []string{o.Path}
	if o.Path != "-" {
		var err error
		if paths, err = source.Expand(paths); err != nil {
			return err
		}
	}
	_, err := source.Read(ctx, paths, source.Options{Stdin: ios.In}, emit, problem)
	if err != nil && !errors.Is(err, errStopRead) {
		return err
	}
	switch {
	case o.ID != "" && found == nil:
		return fmt.Errorf("no record with Id %q in %s (%d records read)", o.ID, o.Path, count)
	case o.ID == "" && count > 1:
		return usagef("explain", "%s holds %d records: choose one with --id", o.Path, count)
	case found == nil && lastErr != nil:
		return lastErr
	case found == nil:
		return fmt.Errorf("no record in %s", o.Path)
	}
	w := bufio.NewWriter(ios.Out)
	if err := explain.Explain(w, found, explain.Options{OurTenants: o.Tenants}); err != nil {
		return err
	}
	return w.Flush()
}
