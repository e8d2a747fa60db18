package source

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestDatesSurvey: a CSV read by column names is surveyed whole before
// its first batch is handed on, so every batch carries what all its time
// columns' dates show, however small the batches; a file whose dates
// show both orders gets one warning naming it; the UAL's CSVs (ISO 8601
// times in AuditData) are not surveyed.
func TestDatesSurvey(t *testing.T) {
	dir := t.TempDir()
	rows := func(header string, dates ...string) string {
		var b strings.Builder
		b.WriteString(header + "\n")
		for i, d := range dates {
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(d, "ID", "r"+string(rune('a'+i))), "|", ","))
			b.WriteString("\n")
		}
		return b.String()
	}
	for _, c := range []struct {
		name, data string
		want       localedate.Evidence
		warn       bool
	}{
		// en-AU, the day over 12 in the last row only.
		{"au.csv", rows("Date (UTC),Request ID,Username,Status", `"7/12/2026 3:05:26 PM"|ID|u@x|Success`, `"1/12/2026 9:00:00 AM"|ID|u@x|Success`,
			`"13/12/2026 11:30:00 PM"|ID|u@x|Success`), localedate.SawDayFirst, false},
		// A Log Analytics export: either time column may show it.
		{"us.csv", rows(`UserPrincipalName,"TimeGenerated [UTC]",ResultType,"CreatedDateTime [UTC]"`, `u@x|"10/5/2026, 11:12:13.456 AM"|0|"10/5/2026, 11:12:13.123 AM"`,
			`u@x|"10/6/2026, 1:00:00.000 PM"|0|"10/13/2026, 1:00:00.000 PM"`), localedate.SawMonthFirst, false},
		// Only the time columns count: a date in the user name (anyone
		// can choose their display strings) shows nothing.
		{"spoof.csv", rows("Date (UTC),Request ID,Username,Status", `"7/12/2026 3:05:26 PM"|ID|13/12/2026 1:00|Success`), 0, false},
		{"mixed.csv", rows("Date (UTC),Request ID,Username,Status", "13/10/2026 09:14|ID|u@x|Success", "06/10/2026 09:14|ID|u@x|Success",
			"10/14/2026 10:00|ID|u@x|Success"), localedate.SawDayFirst | localedate.SawMonthFirst, true},
		{"office.csv", rows("TenantId,Start_Time,Operation,OfficeWorkload", `t|"6.10.2026 09:14:00"|FileAccessed|OneDrive`, `t|"7/10/2026 09:14:00"|FileAccessed|OneDrive`),
			localedate.SawDayFirst, false},
		{"purview.csv", rows("RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames",
			`ID|13/10/2026 09:14|15|UserLoggedIn|u@x|"{""Id"":""x"",""CreationTime"":""2026-10-13T09:14:00""}"||`), 0, false},
	} {
		path := testutil.WriteFile(t, dir, c.name, []byte(c.data))
		for _, batch := range []int{64, 1 << 20} {
			res := readOK(t, []string{path}, Options{BatchBytes: batch})
			if len(res.recs) == 0 {
				t.Fatalf("%s: nothing framed", c.name)
			}
			for _, r := range res.recs {
				if r.Dates != c.want {
					t.Errorf("%s, batch %d: row %d carries %d, want %d", c.name, batch, r.Line, r.Dates, c.want)
				}
			}
			var warnings []string
			for _, p := range res.probs {
				if p.Warning && strings.HasPrefix(p.Reason, "locale dates in both orders") {
					warnings = append(warnings, filepath.Base(p.Path))
				}
			}
			if c.warn && (len(warnings) != 1 || warnings[0] != c.name) || !c.warn && len(warnings) > 0 {
				t.Errorf("%s: warnings %v", c.name, warnings)
			}
		}
	}
}
