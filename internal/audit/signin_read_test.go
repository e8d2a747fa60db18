package audit

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// readSignInFiles frames files with package source and decodes every
// record the way the engine's workers do (sign-in CSV rows by column name,
// other sign-in records as JSON), returning the events and every problem
// as "path: line N: reason". It returns the sign-in ids read (events alias
// the batches, which are recycled).
func readSignInFiles(t *testing.T, paths ...string) (ids []string, problems []string) {
	t.Helper()
	var d Decoder
	var fields [][]byte
	var cols *SignInColumns
	var colsErr error
	colsFile := -1
	emit := func(b *source.Batch) error {
		defer b.Release()
		unit := "line"
		if b.Header != nil {
			unit = "row"
			if b.File != colsFile {
				cols, colsErr = NewSignInColumns(b.Header)
				colsFile = b.File
			}
		}
		var scratch []byte
		for i, r := range b.Records {
			var ev Event
			var err error
			switch {
			case !utf8.Valid(r.Data):
				err = ErrInvalidUTF8
			case b.Header != nil:
				if fields, scratch, err = source.CSVFields(r.Data, fields, scratch); err == nil {
					if err = colsErr; err == nil {
						err = d.DecodeSignInFieldsKeep(cols, fields, &ev)
					}
				}
			case b.Format.IsSignIn():
				err = d.DecodeSignInKeep(b.Records[i].Data, &ev)
			default:
				t.Errorf("%s: format %s is not a sign-in log", b.Path, b.Format)
				return nil
			}
			if err != nil {
				problems = append(problems, source.Problem{Path: filepath.Base(b.Path), Unit: unit, Line: r.Line, Reason: err.Error()}.Error())
				continue
			}
			ids = append(ids, string(ev.SignInID))
		}
		return nil
	}
	_, err := source.Read(context.Background(), paths, source.Options{}, emit, func(p source.Problem) {
		p.Path = filepath.Base(p.Path)
		problems = append(problems, p.Error())
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(problems)
	return ids, problems
}

// TestSignInBadInput: every kind of bad sign-in input is named by file and
// line or row, and the good records around it are read.
func TestSignInBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string { return testutil.WriteFile(t, dir, name, []byte(data)) }
	good := `{"id":"1","createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":"a@b.c","appId":"x","ipAddress":"1.2.3.4","status":{"errorCode":0}}`
	files := []string{
		write("graph.jsonl", strings.Join([]string{
			good,
			`{"id":"2","userPrincipalName":"a@b.c","appId":"x","ipAddress":"1.2.3.4"}`,
			`{"id":"3","createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":42,"appId":"x","ipAddress":"1.2.3.4"}`,
			`{"id":"4","createdDateTime":"2026-10-06T09:14:03Z","appId":"x","ipAddress":"1.2.3.4","status":{"errorCode":0}`,
			`{"id":"5","createdDateTime":"2026-13-06T09:14:03Z","appId":"x","ipAddress":"1.2.3.4"}`,
			`{"id":"6","createdDateTime":"2026-10-06T09:14:03Z","appId":["x"],"ipAddress":{},"status":"{\"errorCode\":"}`,
		}, "\n")+"\n"),
		write("page.json", `{"value":[`+good+`,{"id":"7","createdDateTime":"2026-10-06T09:14:03Z","ipAddress":"1.2.3.4","status":{"errorCode":0},"appId":"x"`),
		write("eventhub.json", `{"records":[{"time":"2026-10-06T09:14:03Z","category":"AuditLogs","tenantId":"t","properties":{"id":"8","appId":"x","ipAddress":"1.2.3.4"}},`+
			`{"time":"2026-10-06T09:14:03Z","category":"SignInLogs","tenantId":"t","properties":{"id":"9","appId":"x","ipAddress":"1.2.3.4"}}]}`),
		write("portal.csv", "Date (UTC),Request ID,Username,Status,Sign-in error code\n"+
			"2026-10-06T09:14:03Z,10,a@b.c,Success,0\n"+
			"2026-10-06T09:14:04Z,11,\"open,Failure,50126\n"),
		write("short.csv", "Date (UTC),Request ID,Username,Status,Sign-in error code\n"+
			"2026-10-06T09:14:03Z,12,a@b.c\n"+
			"yesterday,13,a@b.c,Success,0\n"),
		write("unknown.csv", "Date (UTC),Request ID,Status\n2026-10-06T09:14:03Z,14,Success\n"),
	}
	ids, problems := readSignInFiles(t, files...)
	want := []string{
		"eventhub.json: line 1: category \"AuditLogs\" is not a sign-in log",
		"graph.jsonl: line 2: no createdDateTime",
		"graph.jsonl: line 3: field userPrincipalName is a number, not a string",
		"graph.jsonl: line 4: truncated record",
		"graph.jsonl: line 5: createdDateTime \"2026-13-06T09:14:03Z\" is not a time",
		"graph.jsonl: line 6: status: truncated record",
		"page.json: line 1: truncated JSON: the record that starts here does not end before the end of the input",
		"portal.csv: row 3: unbalanced quote: a quoted field opens in this row and does not close",
		"short.csv: row 2: row has 3 fields, the header 5",
		"short.csv: row 3: Date (UTC) \"yesterday\" is not a time",
		"unknown.csv: unknown format: csv header looks like an Entra sign-in download but has no username column",
	}
	testutil.EqualLines(t, "problems", problems, want)
	if strings.Join(ids, ",") != "1,1,9,10" {
		t.Errorf("read sign-ins %v, want 1,1,9,10", ids)
	}
}
