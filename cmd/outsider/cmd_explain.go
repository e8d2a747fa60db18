package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/explain"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/record"
	"github.com/outsider-sec/outsider/internal/source"
)

// ExplainOptions are the flags and arguments of 'outsider explain'.
type ExplainOptions struct {
	Path    string
	ID      string
	Tenants []string
	// DateOrder is --date-order, as triage reads it.
	DateOrder localedate.Order

	dateOrder string
}

const explainLong = `Walks one audit record field by field in plain language. For a Unified
Audit Log record: the Actor, the UPN, the application and whether it is
Microsoft first-party, the result, the RecordType, the actor's tenant
against ours. For an Entra ID sign-in log record (Graph, diagnostic
settings / Event Hub, Log Analytics, or a row of the admin center's CSV
download): the request and correlation ids that tie it to the UAL, the
home tenant against the resource tenant, crossTenantAccessType, the error
code, conditional access, risk, location and client. Then what it all
means. FILE may be any format triage reads (default: stdin); a row of
Microsoft Sentinel's OfficeActivity table is walked as the UAL record it
came from, and a row of Defender's CloudAppEvents table as the audit
record in its RawEventData. When it holds more than one record, choose
one with --id (a sign-in's id, the CSV's Request ID, an OfficeActivity
row's OfficeId, the Id in a CloudAppEvents row's RawEventData).

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
			var err error
			if o.DateOrder, err = parseDateOrder("explain", o.dateOrder); err != nil {
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
	addDateOrderFlag(cmd, &o.dateOrder)
	return cmd
}

// foundRecord is the record to explain, copied out of its batch: JSON
// text, or for a sign-in CSV the header and the row's fields.
type foundRecord struct {
	js     []byte
	signIn bool // from a sign-in log: read with the sign-in decoder
	header []string
	fields [][]byte
	// office: a row of Sentinel's OfficeActivity table, explained as the
	// UAL record it came from (js); err says why it cannot be.
	office bool
	// defender: a row of Defender advanced hunting's CloudAppEvents
	// table, explained as the audit record in its RawEventData (js).
	defender bool
	err      error
	// skipped is why the decoder skips the record (found by holdsID):
	// said for a CloudAppEvents row, whose walk (of RawEventData alone)
	// cannot replay what the row's columns add.
	skipped error
	// dates is what the locale dates of the record's input show.
	dates localedate.Evidence
}

// defenderNote introduces the walk of a CloudAppEvents row.
const defenderNote = `A row of Microsoft Defender advanced hunting's CloudAppEvents table, read as the
audit record in its RawEventData column (below); where that record lacks Id,
CreationTime, Operation, ClientIP, UserId or UserAgent, triage takes the row's
ReportId, Timestamp, ActionType, IPAddress, AccountId (an address) or UserAgent.

`

// officeNote introduces the walk of an OfficeActivity row.
const officeNote = `A row of Microsoft Sentinel's OfficeActivity table, read as the UAL record it
came from: its columns appear below under their UAL names (OfficeId as Id,
TimeGenerated as CreationTime, OfficeWorkload as Workload, OfficeObjectId as
ObjectId, Client_IPAddress as ClientIPAddress; of a column and its "_" copy the
filled one; RecordType and UserType as numbers).

`

// found copies raw out of its batch.
func found(raw record.Raw) *foundRecord {
	switch {
	case raw.Office():
		js, err := raw.UAL()
		return &foundRecord{js: js, office: true, err: err, dates: raw.Dates}
	case raw.Defender():
		js, err := raw.UAL()
		return &foundRecord{js: js, defender: true, err: err, dates: raw.Dates}
	case raw.Kind == record.SignInFields || raw.Kind == record.SignInRow:
		return &foundRecord{signIn: true, header: slices.Clone(raw.Header), fields: cloneFields(raw.Fields), dates: raw.Dates}
	}
	return &foundRecord{js: bytes.Clone(raw.JSON), signIn: raw.Kind == record.SignInJSON, dates: raw.Dates}
}

// holdsID reports whether a record that does not decode (triage skips
// it, with a problem naming its row) holds id as one of its values: its
// Id is not known, but explain must still find it to say why it is
// skipped (an ambiguous date, a missing time). A row of Defender's
// CloudAppEvents holds its Id inside RawEventData, JSON text in one CSV
// field, or in the JSON row a JSON object or, as the advanced hunting API
// may give it, a string of JSON (its quotes escaped).
func holdsID(raw record.Raw, id string) bool {
	q, err := json.Marshal(id)
	if err != nil {
		return false
	}
	q = bytes.ToLower(q)
	if raw.JSON == nil {
		for _, f := range raw.Fields {
			if strings.EqualFold(strings.TrimSpace(string(f)), id) ||
				raw.Defender() && bytes.Contains(bytes.ToLower(f), q) {
				return true
			}
		}
		return false
	}
	js := bytes.ToLower(raw.JSON)
	if bytes.Contains(js, q) {
		return true
	}
	if !raw.Defender() {
		return false
	}
	esc := append(append([]byte(`\"`), q[1:len(q)-1]...), `\"`...)
	return bytes.Contains(js, esc)
}

func runExplain(ctx context.Context, ios *iostreams.IOStreams, o *ExplainOptions) error {
	var (
		hit     *foundRecord
		count   int
		lastErr error
		rd      record.Reader
		ev      audit.Event
	)
	matches := func(id []byte) bool {
		return strings.EqualFold(strings.TrimSpace(string(id)), o.ID)
	}
	emit := func(b *source.Batch) error {
		defer b.Release()
		for i := range b.Records {
			// One record at a time: nothing decoded is kept.
			rd.Begin()
			raw, err := rd.Read(b, i)
			if err != nil {
				continue
			}
			count++
			if o.ID == "" {
				if count == 1 {
					hit = found(raw)
				}
				continue
			}
			if err := rd.DecodeRaw(raw, &ev); err == nil && matches(ev.ID) || err != nil && holdsID(raw, o.ID) {
				hit = found(raw)
				hit.skipped = err
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
		var passed []source.Passed
		if paths, passed, err = source.ExpandNoting(paths); err != nil {
			return err
		}
		notePassed(ios, false, passed)
	}
	// One read, never again by index: no checkpoints' windows are kept,
	// so no store (and no temporary file) is left for the garbage
	// collector to close.
	_, err := source.Read(ctx, paths, source.Options{Stdin: ios.In, DateOrder: o.DateOrder, NoIndex: true}, emit, problem)
	if err != nil && !errors.Is(err, errStopRead) {
		return err
	}
	switch {
	case o.ID != "" && hit == nil:
		return fmt.Errorf("no record with Id %q in %s (%d records read)", o.ID, o.Path, count)
	case o.ID == "" && count > 1:
		return usagef("explain", "%s holds %d records: choose one with --id", o.Path, count)
	case hit == nil && lastErr != nil:
		return lastErr
	case hit == nil:
		return fmt.Errorf("no record in %s", o.Path)
	}
	if hit.err != nil {
		return hit.err
	}
	w := bufio.NewWriter(ios.Out)
	opts := explain.Options{OurTenants: o.Tenants, Log: explain.LogUAL, Dates: hit.dates}
	if hit.office {
		w.WriteString(officeNote)
	}
	if hit.defender {
		w.WriteString(defenderNote)
		if hit.skipped != nil {
			fmt.Fprintf(w, "outsider triage cannot read this row and skips it: %v.\n\n", hit.skipped)
		}
	}
	switch {
	case hit.header != nil:
		err = explain.ExplainFields(w, hit.header, hit.fields, opts)
	case hit.signIn:
		opts.Log = explain.LogSignIn
		err = explain.Explain(w, hit.js, opts)
	default:
		err = explain.Explain(w, hit.js, opts)
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
