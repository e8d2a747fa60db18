package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/progress"
	"github.com/outsider-sec/outsider/internal/record"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// The tests here build small tenants record by record, so each one reads as
// the scenario it checks. The synthetic tenant generator (internal/synth)
// covers the same rule at scale from an independent implementation.

const (
	ourTenant     = testutil.OurTenant
	fabrikam      = testutil.Fabrikam
	consumer      = "9188040d-6c67-4c5b-b112-36a304b66dad"
	sharePointApp = testutil.SharePointApp
	accessPanel   = "0000000c-0000-0000-c000-000000000000"
	thirdPartyApp = "a1b2c3d4-0000-4000-8000-123456789abc"
)

// rec is the shared hand-written record (internal/testutil builds them).
type rec = testutil.Rec

func run(t *testing.T, opts Options, paths ...string) *Report {
	t.Helper()
	r, err := Run(context.Background(), paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func find(t *testing.T, r *Report, user string) Identity {
	t.Helper()
	for _, id := range r.Identities {
		if id.User == user {
			return id
		}
	}
	var users []string
	for _, id := range r.Identities {
		users = append(users, id.User)
	}
	t.Fatalf("identity %s not reported; reported: %v", user, users)
	return Identity{}
}

// members is background activity by our own accounts.
func members() []rec {
	return []rec{
		testutil.SignIn(0, "bob@contoso.com", ourTenant, "95.91.100.20", sharePointApp, true),
		testutil.SPO(1, "FileModified", "bob@contoso.com", "95.91.100.20", "https://contoso.sharepoint.com/a.docx"),
		testutil.SignIn(2, "carol@contoso.com", ourTenant, "95.91.100.21", accessPanel, true),
		testutil.Mail(3, "carol@contoso.com", "95.91.100.21"),
	}
}

func TestVerdicts(t *testing.T) {
	dir := t.TempDir()
	recs := members()
	recs = append(recs,
		// signin-only: the seed's case, IP in two notations.
		testutil.SignIn(10, "pilar@fabrikam.com", fabrikam, "86.138.113.7", accessPanel, true),
		testutil.SignIn(11, "Pilar@Fabrikam.com", fabrikam, "[86.138.113.7]:51234", accessPanel, false),
		// shared: bob shares, the outsider opens it (as urn:spo:guest#).
		testutil.Share(20, "AddedToSecureLink", "bob@contoso.com", "dave@fabrikam.com", "https://contoso.sharepoint.com/q3.xlsx"),
		testutil.SignIn(21, "dave@fabrikam.com", fabrikam, "86.138.113.8", sharePointApp, true),
		testutil.SPO(22, "FileAccessed", "urn:spo:guest#dave@fabrikam.com", "::ffff:86.138.113.8", "https://contoso.sharepoint.com/q3.xlsx"),
		testutil.SPO(23, "FileDownloaded", "dave@fabrikam.com", "86.138.113.8:443", "https://contoso.sharepoint.com/q3.xlsx"),
		// activity medium: edits without sharing.
		testutil.SignIn(30, "erin@fabrikam.com", fabrikam, "86.138.113.9", sharePointApp, true),
		testutil.SPO(31, "FileModified", "erin@fabrikam.com", "86.138.113.9", "https://contoso.sharepoint.com/b.docx"),
		// activity high: a member signs in from the outsider's IP.
		testutil.SignIn(40, "frank@fabrikam.com", fabrikam, "86.138.113.10", sharePointApp, true),
		testutil.SignIn(41, "bob@contoso.com", ourTenant, "86.138.113.10", sharePointApp, true),
		// activity high: mailbox access by the outsider.
		testutil.SignIn(45, "gina@outlook.com", consumer, "2a0a:a540::7", accessPanel, true),
		testutil.Mail(46, "gina@outlook.com", "[2A0A:A540::7]:443"),
		// anomalous: pass-through to a third-party app.
		testutil.SignIn(50, "mallory@evil.example", fabrikam, "77.56.2.66", thirdPartyApp, true),
		// not anomalous: the third-party attempt failed.
		testutil.SignIn(51, "oscar@fabrikam.com", fabrikam, "77.56.2.67", thirdPartyApp, false),
		// a guest on a third-party app is not anomalous.
		rec{"CreationTime": testutil.At(55), "Id": testutil.NextID(), "OrganizationId": ourTenant, "RecordType": 15, "Operation": "UserLoggedIn",
			"UserType": 10, "Workload": "AzureActiveDirectory", "ClientIP": "77.56.2.70", "UserId": "hank_partner.com#EXT#@contoso.onmicrosoft.com",
			"ActorContextId": ourTenant, "ApplicationId": thirdPartyApp, "Actor": []rec{{"ID": "9d1c2b3a-0000-4000-8000-000000000001", "Type": 0}}},
		// two outsiders behind one egress IP: context, not activity.
		testutil.SignIn(60, "ivan@fabrikam.com", fabrikam, "86.138.113.50", sharePointApp, true),
		testutil.SignIn(61, "judy@fabrikam.com", fabrikam, "86.138.113.50", sharePointApp, true),
		// external-unknown.
		rec{"CreationTime": testutil.At(70), "Id": testutil.NextID(), "OrganizationId": ourTenant, "RecordType": 15, "Operation": "UserLoginFailed",
			"UserType": 4, "Workload": "AzureActiveDirectory", "ClientIP": "77.56.2.99", "UserId": "Not Available",
			"UserKey": "9a8b7c6d-0000-4000-8000-000000000009", "ErrorNumber": "50034"},
		// anonymous link used from an outsider's IP.
		rec{"CreationTime": testutil.At(79), "Id": testutil.NextID(), "OrganizationId": ourTenant, "RecordType": 14, "Operation": "AnonymousLinkCreated",
			"Workload": "OneDrive", "UserId": "carol@contoso.com", "ClientIP": "95.91.100.21", "ObjectId": "https://contoso-my.sharepoint.com/x.pdf"},
		testutil.SignIn(80, "kim@fabrikam.com", fabrikam, "86.138.113.60", sharePointApp, true),
		testutil.SPO(81, "AnonymousLinkUsed", "urn:spo:anon#5f2c", "86.138.113.60", "https://contoso-my.sharepoint.com/x.pdf"),
		testutil.SPO(82, "FileAccessed", "urn:spo:anon#5f2c", "86.138.113.60", "https://contoso-my.sharepoint.com/x.pdf"),
		// shared but never used.
		testutil.Share(90, "SharingInvitationCreated", "carol@contoso.com", "liam@fabrikam.com", "https://contoso.sharepoint.com/sites/deals"),
		testutil.SignIn(91, "liam@fabrikam.com", fabrikam, "86.138.113.70", sharePointApp, true),
	)
	p := testutil.WriteJSONL(t, dir, "ual.jsonl", recs...)
	r := run(t, Options{Workers: 2}, p)

	type want struct {
		user, class, verdict, severity string
		byUser, byIP                   int64
		sharing                        int
		success, failure               int64
	}
	wants := []want{
		{"pilar@fabrikam.com", ClassPassthrough, VerdictSigninOnly, SeverityInfo, 0, 0, 0, 1, 1},
		{"dave@fabrikam.com", ClassPassthrough, VerdictShared, SeverityLow, 2, 0, 1, 1, 0},
		{"erin@fabrikam.com", ClassPassthrough, VerdictActivity, SeverityMedium, 1, 0, 0, 1, 0},
		{"frank@fabrikam.com", ClassPassthrough, VerdictActivity, SeverityHigh, 0, 1, 0, 1, 0},
		{"gina@outlook.com", ClassPassthrough, VerdictActivity, SeverityHigh, 1, 0, 0, 1, 0},
		{"mallory@evil.example", ClassPassthrough, VerdictAnomalous, SeverityHigh, 0, 0, 0, 1, 0},
		{"oscar@fabrikam.com", ClassPassthrough, VerdictSigninOnly, SeverityInfo, 0, 0, 0, 0, 1},
		{"hank@partner.com", ClassGuest, VerdictSigninOnly, SeverityInfo, 0, 0, 0, 1, 0},
		{"ivan@fabrikam.com", ClassPassthrough, VerdictSigninOnly, SeverityInfo, 0, 0, 0, 1, 0},
		{"judy@fabrikam.com", ClassPassthrough, VerdictSigninOnly, SeverityInfo, 0, 0, 0, 1, 0},
		{"unknown:9a8b7c6d-0000-4000-8000-000000000009", ClassExternalUnknown, VerdictSigninOnly, SeverityInfo, 0, 0, 0, 0, 1},
		{"kim@fabrikam.com", ClassPassthrough, VerdictShared, SeverityLow, 2, 0, 0, 1, 0},
		{"liam@fabrikam.com", ClassPassthrough, VerdictSigninOnly, SeverityInfo, 0, 0, 1, 1, 0},
	}
	if len(r.Identities) != len(wants) {
		var got []string
		for _, id := range r.Identities {
			got = append(got, id.User)
		}
		t.Errorf("got %d identities %v, want %d", len(r.Identities), got, len(wants))
	}
	for _, w := range wants {
		id := find(t, r, w.user)
		got := want{id.User, id.Class, id.Verdict, id.Severity, id.Activity.ByUser, id.Activity.ByIP, len(id.Sharing), id.Signins.Success, id.Signins.Failure}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v\nreasons: %q", w.user, got, w, id.Reasons)
		}
		if len(id.Reasons) == 0 {
			t.Errorf("%s: no reasons", w.user)
		}
	}
	if got := find(t, r, "gina@outlook.com"); !got.Consumer || got.HomeTenant != consumer {
		t.Errorf("gina: consumer %v home %q", got.Consumer, got.HomeTenant)
	}
	if got := find(t, r, "frank@fabrikam.com").IPAlsoUsedBy; !slices.Equal(got, []string{"bob@contoso.com"}) {
		t.Errorf("frank ip_also_used_by = %v", got)
	}
	if got := find(t, r, "ivan@fabrikam.com").IPAlsoUsedBy; !slices.Equal(got, []string{"judy@fabrikam.com"}) {
		t.Errorf("ivan ip_also_used_by = %v", got)
	}
	if got := find(t, r, "pilar@fabrikam.com").Signins.IPs; !slices.Equal(got, []string{"86.138.113.7"}) {
		t.Errorf("pilar IPs = %v (notations must normalise)", got)
	}
	mal := find(t, r, "mallory@evil.example")
	if !strings.Contains(mal.Reasons[0], thirdPartyApp) || !strings.Contains(mal.Reasons[0], "ual.jsonl:") {
		t.Errorf("anomalous reason does not cite the app and record: %q", mal.Reasons[0])
	}
	// Sorted by severity, then user.
	for i := 1; i < len(r.Identities); i++ {
		a, b := r.Identities[i-1], r.Identities[i]
		if SeverityRank(a.Severity) < SeverityRank(b.Severity) || (a.Severity == b.Severity && a.User > b.User) {
			t.Errorf("identities out of order: %s/%s before %s/%s", a.Severity, a.User, b.Severity, b.User)
		}
	}
	if r.Tenant.IDs[0] != ourTenant || !r.Tenant.Inferred {
		t.Errorf("tenant = %+v", r.Tenant)
	}
	if !slices.Equal(r.Tenant.Domains, []string{"contoso.com", "contoso.onmicrosoft.com"}) {
		t.Errorf("domains = %v", r.Tenant.Domains)
	}
	if r.Summary.ByVerdict[VerdictAnomalous] != 1 || r.Summary.ByVerdict[VerdictShared] != 2 {
		t.Errorf("summary = %+v", r.Summary)
	}
}

func TestDedupAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a := testutil.SignIn(0, "pilar@fabrikam.com", fabrikam, "86.138.113.7", sharePointApp, true)
	b := testutil.SPO(1, "FileModified", "pilar@fabrikam.com", "86.138.113.7", "https://contoso.sharepoint.com/x")
	c := members()
	p1 := testutil.WriteJSONL(t, dir, "a.jsonl", append([]rec{a, b}, c...)...)
	p2 := testutil.WriteJSONL(t, dir, "b.jsonl", b, a, b)
	for _, workers := range []int{1, 2, 4} {
		r := run(t, Options{Workers: workers}, p1, p2)
		if r.Input.Records != 6 || r.Input.Duplicates != 3 {
			t.Errorf("workers %d: records %d duplicates %d, want 6 and 3", workers, r.Input.Records, r.Input.Duplicates)
		}
		id := find(t, r, "pilar@fabrikam.com")
		if id.Activity.ByUser != 1 || id.Signins.Success != 1 {
			t.Errorf("workers %d: by_user %d success %d", workers, id.Activity.ByUser, id.Signins.Success)
		}
		// Evidence cites the first place the record appears.
		if src := id.Activity.Evidence[0].Source; src != p1+":2" {
			t.Errorf("workers %d: evidence source %q, want %s:2", workers, src, p1)
		}
		if r.Input.Files[1].Records != 3 {
			t.Errorf("file b records = %d, want 3 (read, before dedup)", r.Input.Files[1].Records)
		}
	}
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	var recs []rec
	for i := range 300 {
		ip := fmt.Sprintf("86.138.113.%d", i%40)
		recs = append(recs, testutil.SignIn(i, fmt.Sprintf("user%d@fabrikam.com", i%25), fabrikam, ip, sharePointApp, i%7 != 0))
		recs = append(recs, testutil.SPO(i, "FileAccessed", fmt.Sprintf("user%d@fabrikam.com", i%13), ip, fmt.Sprintf("https://x/%d", i)))
		recs = append(recs, testutil.SignIn(i, fmt.Sprintf("m%d@contoso.com", i%9), ourTenant, ip, sharePointApp, true))
	}
	p := testutil.WriteJSONL(t, dir, "x.jsonl", recs...)
	var first []byte
	for _, workers := range []int{1, 2, 3, 8} {
		r := run(t, Options{Workers: workers, MaxEvidence: 3, Source: sourceOpts(512)}, p)
		got, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = got
			continue
		}
		if !bytes.Equal(first, got) {
			t.Fatalf("workers %d: report differs from workers 1", workers)
		}
	}
}

func TestFilters(t *testing.T) {
	dir := t.TempDir()
	recs := append(members(),
		testutil.SignIn(10, "pilar@fabrikam.com", fabrikam, "86.138.113.7", accessPanel, true),
		testutil.SignIn(200, "late@fabrikam.com", fabrikam, "86.138.113.8", accessPanel, true),
	)
	other := testutil.SignIn(11, "x@other.example", fabrikam, "86.138.113.9", accessPanel, true)
	other["OrganizationId"] = "11111111-2222-4333-8444-555555555555"
	recs = append(recs, other)
	p := testutil.WriteJSONL(t, dir, "x.jsonl", recs...)
	r := run(t, Options{Until: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC), Tenants: []string{strings.ToUpper(ourTenant)}}, p)
	if len(r.Identities) != 1 || r.Identities[0].User != "pilar@fabrikam.com" {
		t.Errorf("identities = %+v", r.Identities)
	}
	if r.Filtered != 2 || r.Tenant.Inferred {
		t.Errorf("filtered %d inferred %v", r.Filtered, r.Tenant.Inferred)
	}
}

func TestBadRecordsCountedAndNamed(t *testing.T) {
	dir := t.TempDir()
	good, _ := json.Marshal(testutil.SignIn(0, "pilar@fabrikam.com", fabrikam, "86.138.113.7", accessPanel, true))
	content := string(good) + "\n{\"CreationTime\":\"2026-10-01T00:00:00\",\"Id\":\n\xff\xfe{}\n" + `{"Id":"x"}` + "\n"
	p := testutil.WriteFile(t, dir, "bad.jsonl", []byte(content))
	r := run(t, Options{}, p)
	if r.Input.Records != 1 || r.Input.Skipped != 3 {
		t.Fatalf("records %d skipped %d, want 1 and 3", r.Input.Records, r.Input.Skipped)
	}
	var msgs []string
	for _, pr := range r.Problems {
		msgs = append(msgs, pr.Error())
	}
	want := []string{
		p + ": line 2: truncated record",
		p + ": line 3: " + record.ErrInvalidUTF8.Error(),
		p + ": line 4: no CreationTime",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Run(context.Background(), []string{p}, Options{Strict: true}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("strict: err = %v, want the line 2 problem", err)
	}
}

// sourceOpts makes small batches so that records spread over workers.
func sourceOpts(batchBytes int) source.Options { return source.Options{BatchBytes: batchBytes} }

// TestConflictingDuplicates: an Id repeated with different content (real
// exports do this) keeps the first copy in input order, whatever the number
// of workers and however the copies fall into batches.
func TestConflictingDuplicates(t *testing.T) {
	dir := t.TempDir()
	var recs []rec
	for i := range 400 {
		r := testutil.SignIn(i, fmt.Sprintf("u%03d@fabrikam.com", i), fabrikam, fmt.Sprintf("86.138.113.%d", i%200), sharePointApp, true)
		r["Id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", 900000+i%7)
		recs = append(recs, r)
	}
	p := testutil.WriteJSONL(t, dir, "dups.jsonl", recs...)
	for _, workers := range []int{1, 2, 3, 8} {
		for range 3 {
			r := run(t, Options{Workers: workers, Source: sourceOpts(700)}, p)
			var users []string
			for _, id := range r.Identities {
				users = append(users, id.User)
			}
			want := []string{"u000@fabrikam.com", "u001@fabrikam.com", "u002@fabrikam.com", "u003@fabrikam.com", "u004@fabrikam.com", "u005@fabrikam.com", "u006@fabrikam.com"}
			if !slices.Equal(users, want) || r.Input.Duplicates != 393 {
				t.Fatalf("workers %d: kept %v (%d duplicates), want the first copies %v", workers, users, r.Input.Duplicates, want)
			}
		}
	}
}

// TestAtPeak: the hook runs once, after every record has been read and
// counted, before the report exists (--memprofile profiles the heap there).
func TestAtPeak(t *testing.T) {
	dir := t.TempDir()
	a := testutil.SignIn(0, "pilar@fabrikam.com", fabrikam, "86.138.113.7", sharePointApp, true)
	p := testutil.WriteJSONL(t, dir, "a.jsonl", append([]rec{a}, members()...)...)
	calls := 0
	var read int64
	counters := &progress.Counters{}
	r := run(t, Options{AtPeak: func() { calls++; read = counters.Records.Load() }, Progress: counters}, p)
	if calls != 1 {
		t.Fatalf("AtPeak called %d times, want 1", calls)
	}
	if read != r.Input.Records {
		t.Errorf("at the peak %d records were read, the report counts %d", read, r.Input.Records)
	}
}

// TestEarliest: Report.Earliest is the earliest record that passed the
// filters, a duplicate's included (it is what a later --since would
// filter out), while input.from counts only the records kept.
func TestEarliest(t *testing.T) {
	dir := t.TempDir()
	kept := testutil.SPO(30, "FileModified", "a@contoso.com", "95.91.100.21", "x")
	dup := rec{}
	for k, v := range kept {
		dup[k] = v
	}
	dup["CreationTime"] = testutil.At(10) // the same Id, an earlier time
	old := testutil.SPO(1, "FileModified", "a@contoso.com", "95.91.100.21", "y")
	p := testutil.WriteJSONL(t, dir, "a.jsonl", old, kept, dup)
	since, err := time.Parse("2006-01-02T15:04:05", testutil.At(5))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, Options{Since: since}, p)
	want, _ := time.Parse("2006-01-02T15:04:05", testutil.At(10))
	if r.Earliest != want.UnixNano() || r.Input.Duplicates != 1 || r.Input.Records != 1 {
		t.Errorf("earliest %s (records %d, duplicates %d), want %s", time.Unix(0, r.Earliest).UTC(), r.Input.Records, r.Input.Duplicates, want)
	}
	if r := run(t, Options{Since: want.Add(time.Hour)}, p); r.Earliest != 0 {
		t.Errorf("nothing passed, earliest = %d", r.Earliest)
	}
}

// TestAmbiguousDateRowNoStrayQuoteHint: a sign-in CSV row whose failure
// reason spans lines and whose date is ambiguous is skipped for its date
// alone; the stray-quote hint (for a row that swallowed the rows after
// it) does not belong there, since a date that reads as a date was not
// swallowed, and it sent analysts looking for a broken file. A row whose
// date is not a time keeps the hint: a stray quote there does swallow.
func TestAmbiguousDateRowNoStrayQuoteHint(t *testing.T) {
	dir := t.TempDir()
	const header = "Date (UTC);Request ID;Username;User type;Cross tenant access type;Application ID ;Home tenant ID;Resource tenant ID;IP address;Status;Sign-in error code;Failure reason\n"
	row := func(date, id string) string {
		return date + ";" + id + ";pilar@fabrikam.com;Member;Passthrough;00000003-0000-0ff1-ce00-000000000000;" +
			"22222222-2222-2222-2222-222222222222;11111111-1111-1111-1111-111111111111;203.0.113.45;Failure;50126;\"Error validating\ncredentials\"\n"
	}
	p := testutil.WriteFile(t, dir, "signins.csv", []byte("\ufeff"+header+row("03/04/2026 09:14:03", "r1")+row("yesterday", "r2")))
	r := run(t, Options{}, p)
	if r.Input.Skipped != 2 || len(r.Problems) != 2 {
		t.Fatalf("skipped %d, problems %v", r.Input.Skipped, r.Problems)
	}
	if amb := r.Problems[0].Error(); !strings.Contains(amb, "is ambiguous") || strings.Contains(amb, "stray quote") {
		t.Errorf("ambiguous date: %q: want the date's reason without the stray-quote hint", amb)
	}
	if bad := r.Problems[1].Error(); !strings.Contains(bad, "is not a time") || !strings.Contains(bad, "stray quote") {
		t.Errorf("date that is not a time: %q: want the stray-quote hint kept", bad)
	}
}
