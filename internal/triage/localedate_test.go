package triage

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// localeHeader is an Entra sign-in download's header (the subset
// audit.SignInColumns reads). The download writes ISO 8601 ("Timestamps
// in the downloaded files are based on UTC": How to download logs in
// Microsoft Entra ID,
// https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs);
// these files were opened and saved again by Excel, which writes the
// dates of the computer's locale.
const localeHeader = "Date (UTC),Request ID,User ID,Username,User type,Cross tenant access type,Application,Application ID ,Resource tenant ID,Home tenant ID,IP address,Status,Sign-in error code\n"

// localeRows are sign-ins of one account at the given locale dates, ids
// ...01, ...02 in order.
func localeRows(dates ...string) string {
	var b strings.Builder
	b.WriteString(localeHeader)
	for i, date := range dates {
		b.WriteString("\"" + date + "\",c4206c29-46c2-4a6f-a46b-7351077000" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10)) +
			",2b7f1d40-8a55-4c1e-9d1a-6f0e3c2b9a71,pilar@fabrikam.example,Member,Passthrough," +
			"Office 365 SharePoint Online,00000003-0000-0ff1-ce00-000000000000,6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94," +
			"a1b2c3d4-5e6f-4a1b-8c2d-3e4f5a6b7c8d,198.18.7.1,Success,0\n")
	}
	return b.String()
}

// TestLocaleDatesPerFile: the order of a file's locale dates is decided
// by the file's own dates, before any of its rows is read, whatever the
// worker split or batch size; AM/PM decides nothing (en-AU and en-NZ
// write the 12-hour clock day first: CLDR en_AU short date "d/MM/yy",
// time "h:mm:ss a"), and a date is never guessed.
func TestLocaleDatesPerFile(t *testing.T) {
	type want struct {
		records, skipped int64
		from, to         string
		// problems, each "row N: text" or "warning: text" (a substring).
		problems []string
	}
	for _, c := range []struct {
		name string
		data string
		want want
	}{
		{
			// en-AU: "7/12/2026 3:05:26 PM" is 7 December; the file
			// shows it with a first number over 12 in its last row,
			// read after the ambiguous ones were framed.
			"en-au", localeRows("7/12/2026 3:05:26 PM", "1/12/2026 9:00:00 AM", "13/12/2026 11:30:00 PM"),
			want{3, 0, "2026-12-01T09:00:00Z", "2026-12-13T23:30:00Z", nil},
		},
		{
			// en-US: one date with a day over 12 says month first.
			"en-us", localeRows("10/5/2026 11:12:13 AM", "10/6/2026 2:00:00 PM", "10/13/2026 8:00:00 AM"),
			want{3, 0, "2026-10-05T11:12:13Z", "2026-10-13T08:00:00Z", nil},
		},
		{
			// en-GB, 24-hour clock, dots in one row: day first.
			"en-gb", localeRows("06/10/2026 09:14", "14.10.2026 10:00:05"),
			want{2, 0, "2026-10-06T09:14:00Z", "2026-10-14T10:00:05Z", nil},
		},
		{
			// Nothing says which comes first: every row is skipped, none
			// read as June or as October.
			"ambiguous", localeRows("06/10/2026 09:14", "7/10/2026 3:05:26 PM"),
			want{0, 2, "", "", []string{
				`row 2: Date (UTC) "06/10/2026 09:14" is ambiguous: day and month are both 12 or less and no other date of the file shows which comes first; state it with --date-order day-first or month-first`,
				`row 3: Date (UTC) "7/10/2026 3:05:26 PM" is ambiguous: day and month are both 12 or less and no other date of the file shows which comes first; state it with --date-order day-first or month-first`,
			}},
		},
		{
			// Both orders: each date that shows one is read by it, the
			// ambiguous one is skipped, and a warning names the file.
			"mixed", localeRows("13/10/2026 09:14", "06/10/2026 09:14", "10/14/2026 10:00"),
			want{2, 1, "2026-10-13T09:14:00Z", "2026-10-14T10:00:00Z", []string{
				"warning: locale dates in both orders",
				`row 3: Date (UTC) "06/10/2026 09:14" is ambiguous: day and month are both 12 or less, and the file's other dates show both orders`,
			}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := testutil.WriteFile(t, t.TempDir(), "signins-"+c.name+".csv", []byte(c.data))
			var first []byte
			// One batch, or a batch per row on two workers: the same.
			for _, opts := range []Options{{Workers: 1}, {Workers: 2, Source: sourceOpts(64)}} {
				r := run(t, opts, path)
				if r.Input.Records != c.want.records || r.Input.Skipped != c.want.skipped {
					t.Errorf("records %d, skipped %d; want %d and %d", r.Input.Records, r.Input.Skipped, c.want.records, c.want.skipped)
				}
				if r.Input.From != c.want.from || r.Input.To != c.want.to {
					t.Errorf("from %q to %q; want %q to %q", r.Input.From, r.Input.To, c.want.from, c.want.to)
				}
				var got []string
				for _, p := range r.Problems {
					if !strings.HasSuffix(p.Path, "signins-"+c.name+".csv") {
						t.Errorf("problem names %s, not the file", p.Path)
					}
					if p.Warning {
						got = append(got, "warning: "+p.Reason)
					} else {
						got = append(got, p.Unit+" "+strconv.FormatInt(p.Line, 10)+": "+p.Reason)
					}
				}
				if len(got) != len(c.want.problems) {
					t.Fatalf("problems %q, want %d", got, len(c.want.problems))
				}
				for i, w := range c.want.problems {
					if !strings.HasPrefix(got[i], w) {
						t.Errorf("problem %d: %q, want it to start %q", i, got[i], w)
					}
				}
				js, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = js
				} else if string(js) != string(first) {
					t.Errorf("the report depends on the batch size or the workers")
				}
			}
		})
	}
}

// TestDateOrderFlag: --date-order (Source.DateOrder) states the order of
// a file whose own dates show none, so a US analyst's export of a
// month's first twelve days is read rather than skipped; a file whose
// dates show the other order is read by them, with a warning naming it;
// a file whose dates show both orders still skips its ambiguous dates.
func TestDateOrderFlag(t *testing.T) {
	for _, c := range []struct {
		name             string
		data             string
		order            localedate.Order
		records, skipped int64
		from, to         string
		warning          string
	}{
		{"us", localeRows("06/10/2026 09:14", "7/10/2026 3:05:26 PM"), localedate.MonthFirst, 2, 0,
			"2026-06-10T09:14:00Z", "2026-07-10T15:05:26Z", ""},
		{"au", localeRows("06/10/2026 09:14", "7/10/2026 3:05:26 PM"), localedate.DayFirst, 2, 0,
			"2026-10-06T09:14:00Z", "2026-10-07T15:05:26Z", ""},
		{"contradicted", localeRows("10/5/2026 11:12:13 AM", "10/13/2026 8:00:00 AM"), localedate.DayFirst, 2, 0,
			"2026-10-05T11:12:13Z", "2026-10-13T08:00:00Z", "locale dates show month first only"},
		{"mixed", localeRows("13/10/2026 09:14", "06/10/2026 09:14", "10/14/2026 10:00"), localedate.DayFirst, 2, 1,
			"2026-10-13T09:14:00Z", "2026-10-14T10:00:00Z", "locale dates in both orders"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := testutil.WriteFile(t, t.TempDir(), "signins-"+c.name+".csv", []byte(c.data))
			for _, opts := range []Options{{Workers: 1}, {Workers: 2, Source: sourceOpts(64)}} {
				opts.Source.DateOrder = c.order
				r := run(t, opts, path)
				if r.Input.Records != c.records || r.Input.Skipped != c.skipped || r.Input.From != c.from || r.Input.To != c.to {
					t.Errorf("records %d skipped %d from %s to %s; want %d %d %s %s", r.Input.Records, r.Input.Skipped, r.Input.From, r.Input.To,
						c.records, c.skipped, c.from, c.to)
				}
				var warnings []string
				for _, p := range r.Problems {
					if p.Warning {
						warnings = append(warnings, p.Reason)
						if !strings.HasSuffix(p.Path, "signins-"+c.name+".csv") {
							t.Errorf("warning names %s, not the file", p.Path)
						}
					}
				}
				if c.warning == "" && len(warnings) > 0 || c.warning != "" && (len(warnings) != 1 || !strings.HasPrefix(warnings[0], c.warning)) {
					t.Errorf("warnings %q, want %q", warnings, c.warning)
				}
			}
		})
	}
}

// TestDateOrderFlagJSON: the order --date-order states also reads an
// ambiguous locale date in a JSON record (not surveyed: Microsoft's JSON
// writes ISO 8601, a script may not), as the skip reason without the flag
// advises; a date that shows its order is read by it whatever the flag.
func TestDateOrderFlagJSON(t *testing.T) {
	rec := func(id, when string) string {
		return `{"id":"` + id + `","createdDateTime":"` + when + `","userPrincipalName":"a@fabrikam.com","appId":"00000003-0000-0ff1-ce00-000000000000",` +
			`"ipAddress":"203.0.113.9","status":{"errorCode":0},"resourceTenantId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"}` + "\n"
	}
	path := testutil.WriteFile(t, t.TempDir(), "signins.json", []byte(rec("s1", "03/04/2026 10:00:00")+rec("s2", "13/04/2026 10:00:00")))
	for _, c := range []struct {
		order            localedate.Order
		records, skipped int64
		from             string
	}{
		{0, 1, 1, "2026-04-13T10:00:00Z"},
		{localedate.DayFirst, 2, 0, "2026-04-03T10:00:00Z"},
		{localedate.MonthFirst, 2, 0, "2026-03-04T10:00:00Z"},
	} {
		opts := Options{Workers: 1}
		opts.Source.DateOrder = c.order
		r := run(t, opts, path)
		if r.Input.Records != c.records || r.Input.Skipped != c.skipped || r.Input.From != c.from {
			t.Errorf("order %d: records %d skipped %d from %s; want %d %d %s (problems %v)", c.order, r.Input.Records, r.Input.Skipped,
				r.Input.From, c.records, c.skipped, c.from, r.Problems)
		}
		if c.order == 0 && (len(r.Problems) == 0 || !strings.Contains(r.Problems[0].Reason, "--date-order")) {
			t.Errorf("no flag: problems %v, want the skip reason to name --date-order", r.Problems)
		}
	}
}
