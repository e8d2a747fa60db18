package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/explain"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/source"
)

// ExplainOptions are the flags and arguments of 'outsider explain'.
type ExplainOptions struct {
	Path    string
	ID      string
	Tenants []string
}

const explainLong = `Walks one audit record field by field in plain language. For a Unified
Audit Log record: the Actor, the UPN, the application and whether it is
Microsoft first-party, the result, the RecordType, the actor's tenant
against ours. For an Entra ID sign-in log record (Graph, diagnostic
settings / Event Hub, Log Analytics, or a row of the admin center's CSV
download): the request and correlation ids that tie it to the UAL, the
home tenant against the resource tenant, crossTenantAccessType, the error
code, conditional access, risk, location and client. Then what it all
means. FILE may be any format triage reads (default: stdin). When it holds
more than one record, choose one with --id (a sign-in's id, the CSV's
Request ID).

Exit status: 0 done; 1 error (no such record); 2 usage.`

var errStopRead = errors.New("record found")

func newCmdExplain(f *factory, runF func(context.Context, *ExplainOptions) error) *cobra.Command {
	o := &ExplainOptions{Path: "-"}
	cmd := &cobra.Command{
		Use:   "explain [flags] [FILE]",
		Short: "walk one audit or sign-in record field by field in plain language",
		Long:  explainLong,
		Example: `  outsider explain record.json
  outsider explain export.json --id 5b7e1c9a-2f3d-4e8b-9a61-0c4d2e7f8a13`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("explain", "give one FILE (or none for stdin)")
			}
			if err := checkTenants("explain", "--tenant", o.Tenants); err != nil {
				return err
			}
			o.ID = strings.TrimSpace(o.ID)
			if len(args) == 1 {
				o.Path = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runExplain(cmd.Context(), f.IO, o)
		},
	}
	cmd.Flags().StringVarP(&o.ID, "id", "i", "", "the `Id` of the record to explain (a sign-in's id or Request ID)")
	addTenantFlag(cmd.Flags(), &o.Tenants, "our tenant id (`GUID`, repeatable); default: the record's OrganizationId (resourceTenantId)")
	return cmd
}

// foundRecord is the record to explain, copied out of its batch: JSON
// text, or for a sign-in CSV the header and the row's fields.
type foundRecord struct {
	js     []byte
	signIn bool // from a sign-in log: read with the sign-in decoder
	header []string
	fields [][]byte
}

func runExplain(ctx context.Context, ios *iostreams.IOStreams, o *ExplainOptions) error {
	var (
		found    *foundRecord
		count    int
		lastErr  error
		dec      audit.Decoder
		ev       audit.Event
		scratch  []byte
		fields   [][]byte
		cols     *audit.SignInColumns
		colsErr  error
		colsFile = -1
	)
	matches := func(id []byte) bool {
		return strings.EqualFold(strings.TrimSpace(string(id)), o.ID)
	}
	emit := func(b *source.Batch) error {
		defer b.Release()
		if b.Header != nil && b.File != colsFile {
			// A sign-in CSV: its rows are decoded by the header's names.
			cols, colsErr = audit.NewSignInColumns(b.Header)
			colsFile = b.File
		}
		for i := range b.Records {
			if b.Header != nil {
				var err error
				fields, scratch, err = source.CSVFields(b.Records[i].Data, fields, scratch[:0])
				if err != nil {
					continue
				}
				count++
				hit := o.ID == "" && count == 1
				if o.ID != "" && colsErr == nil {
					dec.ResetArena()
					hit = dec.DecodeSignInFieldsKeep(cols, fields, &ev) == nil && matches(ev.ID)
				}
				if hit {
					found = &foundRecord{signIn: true, header: slices.Clone(b.Header), fields: cloneFields(fields)}
					if o.ID != "" {
						return errStopRead
					}
				}
				continue
			}
			js, s2, err := b.JSON(i, scratch[:0])
			scratch = s2
			if err != nil {
				continue
			}
			count++
			if o.ID == "" {
				if count == 1 {
					found = &foundRecord{js: bytes.Clone(js), signIn: b.Format.IsSignIn()}
				}
				continue
			}
			if b.Format.IsSignIn() {
				dec.ResetArena()
				err = dec.DecodeSignInKeep(js, &ev)
			} else {
				err = dec.Decode(js, &ev)
			}
			if err == nil && matches(ev.ID) {
				found = &foundRecord{js: bytes.Clone(js), signIn: b.Format.IsSignIn()}
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
	opts := explain.Options{OurTenants: o.Tenants, Log: explain.LogUAL}
	switch {
	case found.header != nil:
		err = explain.ExplainFields(w, found.header, found.fields, opts)
	case found.signIn:
		opts.Log = explain.LogSignIn
		err = explain.Explain(w, found.js, opts)
	default:
		err = explain.Explain(w, found.js, opts)
	}
	if err != nil {
		return err
	}
	return w.Flush()
}

// cloneFields copies a CSV row's fields out of the batch's buffers.
func cloneFields(fields [][]byte) [][]byte {
	out := make([][]byte, len(fields))
	for i, f := range fields {
		out[i] = bytes.Clone(f)
		if out[i] == nil {
			out[i] = []byte{}
		}
	}
	return out
}
