package record

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/source"
)

// defenderFixtures are the advanced hunting exports of internal/source's
// golden inputs: CloudAppEvents as the portal's CSV, the Defender API's
// and Graph's responses (with a DeviceEvents and an EntraIdSignInEvents
// table), EntraIdSignInEvents as CSV, and CloudAppEvents rows as a JSON
// array (Sentinel's copy of the table, exported from Log Analytics).
var defenderFixtures = []string{
	"../source/testdata/in/defender-cloudappevents.csv",
	"../source/testdata/in/defender-api.json",
	"../source/testdata/in/defender-graph.json",
	"../source/testdata/in/defender-signinevents.csv",
	"../source/testdata/in/defender-rows.json",
}

// TestDefenderGolden reads the Defender fixtures end to end (sniffing,
// framing, the Reader's choice, decoding) and compares every record's
// event, or reason, with testdata/defender.golden.
func TestDefenderGolden(t *testing.T) {
	checkEventsGolden(t, defenderFixtures, "defender.golden", func(ev *audit.Event) string {
		return fmt.Sprintf("%s ua=%q", summary(ev), ev.UserAgent)
	})
}

// TestDefenderRowIsItsRecord: a CloudAppEvents row whose RawEventData is a
// whole audit record (Id, CreationTime, an IP) decodes to exactly the
// event that record gives in a UAL export: the row's own columns add
// nothing and change nothing.
func TestDefenderRowIsItsRecord(t *testing.T) {
	n := 0
	var rd Reader
	read(t, defenderFixtures, func(b *source.Batch, i int, ev *audit.Event, err error) {
		if err != nil {
			return
		}
		raw, rerr := rd.Read(b, i)
		if rerr != nil {
			t.Fatalf("%s line %d: %v", b.Path, b.Records[i].Line, rerr)
		}
		js, uerr := raw.UAL()
		if uerr != nil {
			t.Fatalf("%s line %d: decoded, but no RawEventData: %v", b.Path, b.Records[i].Line, uerr)
		}
		if !strings.Contains(string(js), `"Id"`) || !strings.Contains(string(js), `"CreationTime"`) {
			return
		}
		var d audit.Decoder
		var want audit.Event
		if err := d.DecodeKeep(js, &want); err != nil {
			t.Fatalf("%s line %d: its record %s: %v", b.Path, b.Records[i].Line, js, err)
		}
		if !reflect.DeepEqual(ev, &want) {
			t.Errorf("%s line %d: row and record differ:\n%s\n%s", b.Path, b.Records[i].Line, summary(ev), summary(&want))
		}
		n++
	})
	if n != 11 {
		t.Errorf("%d rows compared, want 11", n)
	}
}
