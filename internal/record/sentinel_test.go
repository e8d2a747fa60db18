package record

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// read frames paths and decodes every record with one Reader, calling
// each with the batch, the record's index and the outcome.
func read(t *testing.T, paths []string, each func(b *source.Batch, i int, ev *audit.Event, err error)) []source.Problem {
	t.Helper()
	var rd Reader
	var probs []source.Problem
	emit := func(b *source.Batch) error {
		defer b.Release()
		rd.Begin()
		for i := range b.Records {
			var ev audit.Event
			err := rd.Decode(b, i, &ev)
			each(b, i, &ev, err)
		}
		return nil
	}
	if _, err := source.Read(context.Background(), paths, source.Options{}, emit, func(p source.Problem) { probs = append(probs, p) }); err != nil {
		t.Fatal(err)
	}
	return probs
}

// summary is one line of what an event says, for the golden files.
func summary(ev *audit.Event) string {
	ips := make([]string, 0, ev.NIPs)
	for _, a := range ev.IPList() {
		ips = append(ips, a.String())
	}
	return fmt.Sprintf("%s %s id=%q rt=%d op=%q workload=%q org=%q actor-tenant=%q user=%q ut=%d unknown=%v ips=%v app=%q outcome=%v",
		ev.Kind, audit.FormatTime(ev.Time), ev.ID, ev.RecordType, ev.Operation, ev.Workload, ev.OrgID, ev.ActorTenant,
		ev.User, ev.UserType, ev.ActorUnknown, ips, ev.AppID, ev.Outcome())
}

// TestSentinelGolden reads the Sentinel fixtures end to end (sniffing,
// framing, the Reader's choice, decoding) and compares every record's
// event, or reason, with testdata/sentinel.golden.
func TestSentinelGolden(t *testing.T) {
	paths := []string{
		"../audit/testdata/office/portal.csv",
		"../audit/testdata/office/start-time.csv",
		"../audit/testdata/office/az-cli.json",
		"../source/testdata/in/la-query.json",
		"../source/testdata/in/la-query-partial.json",
	}
	checkEventsGolden(t, paths, "sentinel.golden", summary)
}

// checkEventsGolden reads paths end to end and compares every record's
// place and event (as describe gives it) or reason, and the problems, with
// testdata/golden.
func checkEventsGolden(t *testing.T, paths []string, golden string, describe func(ev *audit.Event) string) {
	t.Helper()
	var b strings.Builder
	probs := read(t, paths, func(bt *source.Batch, i int, ev *audit.Event, err error) {
		fmt.Fprintf(&b, "%s %s %s %d %s: ", filepath.Base(bt.Path), bt.Format, Unit(bt), bt.Records[i].Line, KindOf(bt))
		if err != nil {
			fmt.Fprintf(&b, "error %v\n", err)
			return
		}
		b.WriteString(describe(ev) + "\n")
	})
	for _, p := range probs {
		fmt.Fprintf(&b, "problem %s\n", strings.ReplaceAll(filepath.ToSlash(p.Error()), "../", ""))
	}
	testutil.Golden(t, filepath.Join("testdata", golden), []byte(b.String()))
}

// TestQueryRowsAsObjects: a query API row decodes to the event the same
// row gives as a JSON object with the table's column names (the Log
// Analytics sign-in decoding for SigninLogs and
// AADNonInteractiveUserSignInLogs rows, the OfficeActivity decoding for
// OfficeActivity rows), so the API's shape loses or adds nothing.
func TestQueryRowsAsObjects(t *testing.T) {
	n := 0
	read(t, []string{"../source/testdata/in/la-query.json", "../source/testdata/in/la-query-partial.json"},
		func(b *source.Batch, i int, ev *audit.Event, err error) {
			if err != nil {
				t.Fatalf("line %d: %v", b.Records[i].Line, err)
			}
			var vals []json.RawMessage
			if err := json.Unmarshal(b.Records[i].Data, &vals); err != nil {
				t.Fatal(err)
			}
			obj := map[string]json.RawMessage{}
			for c, v := range vals {
				obj[b.Header[c]] = v
			}
			js, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			var d audit.Decoder
			var want audit.Event
			if b.Table == source.EntraSignInLA {
				err = d.DecodeSignInKeep(js, &want)
			} else {
				err = d.DecodeOfficeKeep(js, &want)
			}
			if err != nil {
				t.Fatalf("%s: %v", js, err)
			}
			if !reflect.DeepEqual(ev, &want) {
				t.Errorf("line %d: row and object differ:\n%s\n%s", b.Records[i].Line, summary(ev), summary(&want))
			}
			n++
		})
	if n != 8 {
		t.Errorf("%d rows decoded, want 8", n)
	}
}
