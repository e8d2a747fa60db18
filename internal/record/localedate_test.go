package record

import (
	"context"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestLocaleDatesPerFile reads sign-in and OfficeActivity CSVs re-saved
// by Excel end to end (survey, framing, the Reader, decoding): a date
// whose day and month are both 12 or less is read in the order its file's
// time columns show, whichever of the columns the decoder reads the time
// from (the survey must read them all: Date (UTC), CreatedDateTime,
// TimeGenerated, Start_Time), and the explain path (Read, DecodeRaw, an
// OfficeActivity row's UAL record) reads it alike.
func TestLocaleDatesPerFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, data string
		want       []string // each row's time, or its reason
	}{
		{"signin-au.csv", "Date (UTC),Request ID,Username,Status\n" +
			"\"7/12/2026 3:05:26 PM\",a,u@x,Success\n" +
			"\"13/12/2026 3:05:26 PM\",b,u@x,Success\n",
			[]string{"2026-12-07T15:05:26Z", "2026-12-13T15:05:26Z"}},
		// The decoder reads CreatedDateTime; TimeGenerated shows the order.
		{"signin-la-us.csv", "UserPrincipalName,\"TimeGenerated [UTC]\",ResultType,Id,\"CreatedDateTime [UTC]\"\n" +
			"u@x,\"10/13/2026, 9:14:05.000 AM\",0,a,\"10/6/2026, 9:14:03.000 AM\"\n",
			[]string{"2026-10-06T09:14:03Z"}},
		{"office-au.csv", "TenantId,RecordType,Operation,OrganizationId,UserType,OfficeWorkload,UserId,ClientIP,OfficeId,Start_Time [UTC],Type\n" +
			"t,SharePointFileOperation,FileAccessed,6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94,Regular,SharePoint,megan.bowen@contoso.com,81.2.69.160,a,\"4/11/2021, 3:05:26.000 PM\",OfficeActivity\n" +
			"t,SharePointFileOperation,FileAccessed,6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94,Regular,SharePoint,megan.bowen@contoso.com,81.2.69.160,b,\"28/11/2021, 3:07:02.513 PM\",OfficeActivity\n",
			[]string{"2021-11-04T15:05:26Z", "2021-11-28T15:07:02.513Z"}},
		{"office-none.csv", "TenantId,RecordType,Operation,OrganizationId,UserType,OfficeWorkload,UserId,ClientIP,OfficeId,TimeGenerated [UTC],Type\n" +
			"t,SharePointFileOperation,FileAccessed,6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94,Regular,SharePoint,megan.bowen@contoso.com,81.2.69.160,a,\"4/11/2021, 3:05:26.000 PM\",OfficeActivity\n",
			[]string{`TimeGenerated "4/11/2021, 3:05:26.000 PM" is ambiguous: day and month are both 12 or less and no other date of the file shows which comes first; state it with --date-order day-first or month-first`}},
	} {
		path := testutil.WriteFile(t, dir, c.name, []byte(c.data))
		var got []string
		var rd Reader
		emit := func(b *source.Batch) error {
			defer b.Release()
			checkBatch(t, &rd, b)
			rd.Begin()
			for i := range b.Records {
				var ev audit.Event
				if err := rd.Decode(b, i, &ev); err != nil {
					got = append(got, err.Error())
				} else {
					got = append(got, audit.FormatTime(ev.Time))
				}
			}
			return nil
		}
		if _, err := source.Read(context.Background(), []string{path}, source.Options{BatchBytes: 64}, emit, nil); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %q, want %q", c.name, got, c.want)
		}
		for i := range got {
			if !strings.HasPrefix(got[i], c.want[i]) {
				t.Errorf("%s row %d: %q, want %q", c.name, i+2, got[i], c.want[i])
			}
		}
	}
}
