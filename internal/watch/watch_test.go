package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/collect/fakems"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/triage"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// wenv is a fake Microsoft with the synthetic tenant, whose content
// becomes available as the clock moves, and a watch over an archive.
type wenv struct {
	t       *testing.T
	exp     *synth.Expected
	fake    *fakems.Server
	srv     *httptest.Server
	clock   *clock
	archive *collect.Archive
	out     bytes.Buffer
	log     bytes.Buffer
	end     time.Time
}

func newWenv(t *testing.T) *wenv {
	t.Helper()
	var buf bytes.Buffer
	exp, err := synth.Generate(&buf, synth.Options{Seed: 1, Days: 6})
	if err != nil {
		t.Fatal(err)
	}
	blobs, signins, _, err := fakems.Split(&buf, fakems.SplitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := &wenv{t: t, exp: exp, clock: &clock{}, end: synth.DefaultStart.Add(6*24*time.Hour + 6*time.Hour)}
	w.fake = &fakems.Server{Tenant: exp.TenantID, ClientID: "c", Secret: "secret-value-for-watch",
		ManageResource: "https://manage.office.com", GraphResource: "https://graph.microsoft.com", Now: w.clock.Now, PageSize: 50, GraphPageSize: 200}
	w.fake.AddBlobs(blobs...)
	w.fake.AddSignIns(signins...)
	w.srv = httptest.NewTLSServer(w.fake)
	t.Cleanup(w.srv.Close)
	w.archive, err = collect.OpenArchive(context.Background(), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.archive.Close() })
	return w
}

func (w *wenv) options() Options {
	cfg := collect.Config{
		Cloud: collect.Cloud{LoginURL: w.srv.URL, ManageURL: w.srv.URL, ManageResource: "https://manage.office.com",
			GraphURL: w.srv.URL, GraphResource: "https://graph.microsoft.com"},
		Credentials: &collect.Credentials{TenantID: w.exp.TenantID, ClientID: "c", Secret: collect.NewSecret("secret-value-for-watch")},
		HTTPClient:  w.srv.Client(),
		Now:         w.clock.Now,
		Retry:       collect.Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond, MaxRetryAfter: time.Millisecond},
	}
	return Options{
		Archive:  w.archive,
		Collect:  func(ctx context.Context) (*collect.Summary, error) { return collect.Run(ctx, w.archive, cfg) },
		Tenants:  []string{w.exp.TenantID},
		Findings: &w.out,
		Now:      w.clock.Now,
		Log:      &w.log,
		// Every identity reported: the tests of findings, dispositions and
		// delivery count one per identity. TestWatchQuietFindings tests
		// the default.
		MinSeverity: triage.SeverityInfo,
	}
}

// addRecord makes one audit record by user available to collection half
// an hour before the clock's next setting.
func (w *wenv) addRecord(id, op, workload, user string, recordType int, at time.Time, extra string) {
	rec := fmt.Sprintf(`{"CreationTime":"%s","Id":"%s","Operation":"%s","OrganizationId":"%s","RecordType":%d,"ResultStatus":"Succeeded","UserKey":"%s","UserType":0,"Version":1,"Workload":"%s","ClientIPAddress":"203.0.113.251","UserId":"%s"%s}`,
		at.UTC().Format("2006-01-02T15:04:05"), id, op, w.exp.TenantID, recordType, user, workload, user, extra)
	ct := "Audit.SharePoint"
	if workload == "Exchange" {
		ct = "Audit.Exchange"
	}
	w.fake.AddBlobs(&fakems.Blob{ContentType: ct, ContentID: "blob-" + id, Created: at.Add(10 * time.Minute), Records: [][]byte{[]byte(rec)}})
}

// findings parses the lines written so far.
func (w *wenv) findings() []Finding {
	w.t.Helper()
	var out []Finding
	for _, line := range strings.Split(strings.TrimSpace(w.out.String()), "\n") {
		if line == "" {
			continue
		}
		var f Finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			w.t.Fatalf("finding line %q: %v", line, err)
		}
		if f.Schema != FindingSchema || f.Identity == nil || f.Identity.User != f.User {
			w.t.Fatalf("finding line %q: bad shape", line)
		}
		out = append(out, f)
	}
	return out
}

func (w *wenv) once(o Options) *Cycle {
	w.t.Helper()
	cyc, err := Once(context.Background(), o)
	if err != nil {
		w.t.Fatalf("cycle: %v\n%s", err, w.log.String())
	}
	if cyc.CollectErr != nil {
		w.t.Fatalf("collect: %v", cyc.CollectErr)
	}
	return cyc
}

// TestWatchFindingsOnceAndDispositions: identities appear as content
// arrives; each (identity, verdict) is reported once; a verdict getting
// worse is reported; a disposed identity stays quiet until new activity
// makes its verdict worse, and then it is reported with the disposition.
func TestWatchFindingsOnceAndDispositions(t *testing.T) {
	w := newWenv(t)
	o := w.options()
	w.clock.Set(synth.DefaultStart.Add(3 * 24 * time.Hour))
	c1 := w.once(o)
	first := w.findings()
	if len(first) == 0 || len(c1.Findings) != len(first) {
		t.Fatalf("first cycle: %d findings, %d lines", len(c1.Findings), len(first))
	}
	seen := map[string]bool{}
	for _, f := range first {
		if f.Kind != "new" || seen[f.User] {
			t.Errorf("first cycle: %s %s", f.Kind, f.User)
		}
		seen[f.User] = true
	}
	// Nothing changed: nothing reported.
	if c := w.once(o); len(c.Findings) != 0 {
		t.Errorf("a quiet cycle reported %d findings", len(c.Findings))
	}
	// The rest of the tenant arrives.
	w.clock.Set(w.end)
	w.once(o)
	all := w.findings()
	last := map[string]Finding{}
	pairs := map[string]bool{}
	for _, f := range all {
		key := f.User + "|" + f.Verdict + "|" + f.Severity
		if pairs[key] {
			t.Errorf("reported twice: %s", key)
		}
		pairs[key] = true
		if prev, ok := last[f.User]; ok {
			if f.Kind != "worse" || rank(f.Verdict, f.Severity) <= rank(prev.Verdict, prev.Severity) {
				t.Errorf("%s reported again (%s) without getting worse: %s/%s after %s/%s", f.User, f.Kind, f.Verdict, f.Severity, prev.Verdict, prev.Severity)
			}
			if f.Previous == nil || f.Previous.Verdict != prev.Verdict {
				t.Errorf("%s: previous = %+v, want %s", f.User, f.Previous, prev.Verdict)
			}
		}
		last[f.User] = f
	}
	for _, want := range w.exp.Identities {
		f, ok := last[want.User]
		if !ok {
			t.Errorf("%s never reported", want.User)
			continue
		}
		if f.Verdict != want.Verdict || f.Severity != want.Severity {
			t.Errorf("%s: last reported %s/%s, want %s/%s", want.User, f.Verdict, f.Severity, want.Verdict, want.Severity)
		}
	}
	if len(last) != len(w.exp.Identities) {
		t.Errorf("%d identities reported, want %d", len(last), len(w.exp.Identities))
	}

	// Dispose of two signin-only identities: one stays as it is, the
	// other gets mailbox activity.
	var quiet, loud string
	for _, id := range w.exp.Identities {
		if id.Verdict == triage.VerdictSigninOnly && id.Class == triage.ClassPassthrough && strings.Contains(id.User, "@") {
			if quiet == "" {
				quiet = id.User
			} else if loud == "" {
				loud = id.User
			}
		}
	}
	if loud == "" {
		t.Fatal("no two signin-only passthrough identities in the synthetic tenant")
	}
	ctx := context.Background()
	for _, u := range []string{quiet, strings.ToUpper(loud)} {
		if _, err := Dispose(ctx, w.archive.State, u, Benign, "known partner", w.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Dispose(ctx, w.archive.State, "nobody@example.com", Benign, "", w.clock.Now()); err == nil {
		t.Error("disposing an unknown identity succeeded")
	}
	st, _ := GetStatus(ctx, w.archive.State, w.clock.Now())
	if st.Disposed != 2 {
		t.Errorf("status: %d disposed", st.Disposed)
	}
	w.clock.Set(w.end.Add(time.Hour))
	if c := w.once(o); len(c.Findings) != 0 {
		t.Errorf("disposed identities reported: %+v", c.Findings)
	}
	// New activity by loud: its mailbox read from a new address.
	at := w.clock.Now().Add(-30 * time.Minute)
	rec := fmt.Sprintf(`{"CreationTime":"%s","Id":"7d1c0f3e-0000-4000-8000-00000000a11c","Operation":"MailItemsAccessed","OrganizationId":"%s","RecordType":50,"ResultStatus":"Succeeded","UserKey":"%s","UserType":0,"Version":1,"Workload":"Exchange","ClientIPAddress":"203.0.113.250","UserId":"%s","MailboxOwnerUPN":"ceo@contoso.com"}`,
		at.UTC().Format("2006-01-02T15:04:05"), w.exp.TenantID, loud, loud)
	w.fake.AddBlobs(&fakems.Blob{ContentType: "Audit.Exchange", ContentID: "new-activity-1", Created: at.Add(10 * time.Minute), Records: [][]byte{[]byte(rec)}})
	w.clock.Set(w.end.Add(2 * time.Hour))
	c := w.once(o)
	if len(c.Findings) != 1 {
		t.Fatalf("after new activity: %d findings, want 1 (%s)", len(c.Findings), w.log.String())
	}
	var f Finding
	json.Unmarshal([]byte(c.Findings[0].Body), &f)
	if f.User != loud || f.Kind != "worse" || f.Disposition == nil || f.Disposition.As != Benign || f.Disposition.Note != "known partner" || f.Previous.Verdict != triage.VerdictSigninOnly {
		t.Errorf("finding = %+v", f)
	}
	st, _ = GetStatus(ctx, w.archive.State, w.clock.Now())
	if st.Disposed != 1 {
		t.Errorf("status after reopening: %d disposed, want 1", st.Disposed)
	}
	reopened := false
	for _, o := range st.Open {
		reopened = reopened || o.User == loud
	}
	if !reopened {
		t.Errorf("%s not open again: %+v", loud, st.Open)
	}
	var text bytes.Buffer
	WriteText(&text, st, func(s string) string { return s })
	for _, want := range []string{"Audit.Exchange", "signins", loud, "open finding"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, text.String())
		}
	}
}

// TestWatchOutboxAndWebhook: a finding whose line could not be written is
// written on the next cycle; the webhook gets every finding, retried
// through failures within a cycle and across cycles.
func TestWatchOutboxAndWebhook(t *testing.T) {
	w := newWenv(t)
	var mu sync.Mutex
	got := map[string]int{}
	failing := 3 // the first three POSTs fail
	down := false
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		if down || failing > 0 {
			failing--
			rw.Header().Set("Retry-After", "0")
			rw.WriteHeader(503)
			return
		}
		var f Finding
		if json.Unmarshal(b, &f) != nil || r.Header.Get("Content-Type") != "application/json" {
			rw.WriteHeader(400)
			return
		}
		got[f.User+"|"+f.Verdict]++
	}))
	defer hook.Close()
	wh, err := NewWebhook(hook.URL + "/hook?token=abc")
	if err != nil {
		t.Fatal(err)
	}
	wh.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
	o := w.options()
	o.Webhook = wh
	o.Findings = &failWriter{w: &w.out, fails: 1}
	w.clock.Set(w.end)
	if _, err := Once(context.Background(), o); err == nil || !strings.Contains(err.Error(), "writing a finding") {
		t.Fatalf("cycle with a failing findings writer: err = %v", err)
	}
	// The webhook is down for a whole cycle, then back.
	mu.Lock()
	down = true
	mu.Unlock()
	c := w.once(o)
	if c.Failed == 0 || c.Delivered != 0 {
		t.Errorf("webhook down: delivered %d, failed %d", c.Delivered, c.Failed)
	}
	if strings.Contains(w.log.String(), "token=abc") || strings.Contains(w.log.String(), hook.URL) {
		t.Errorf("the webhook URL was printed:\n%s", w.log.String())
	}
	mu.Lock()
	down = false
	mu.Unlock()
	w.once(o)
	lines := w.findings()
	if len(lines) != len(w.exp.Identities) {
		t.Errorf("%d finding lines, want %d (one per identity, none lost, none twice)", len(lines), len(w.exp.Identities))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(lines) {
		t.Errorf("webhook got %d findings, want %d", len(got), len(lines))
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("webhook got %s %d times", k, n)
		}
	}
	if _, err := NewWebhook("http://example.com/hook"); err == nil {
		t.Error("plain http webhook to a remote host accepted")
	}
}

type failWriter struct {
	w     io.Writer
	fails int
}

func (f *failWriter) Write(p []byte) (int, error) {
	if f.fails > 0 {
		f.fails--
		return 0, errors.New("disk full")
	}
	return f.w.Write(p)
}

// TestWatchQuietFindings: by default info identities are recorded and
// held back; a benign tenant disposition holds back its identities below
// high severity, and a high one is reported naming it; withdrawing the
// disposition reports what it held; status counts what is held back.
func TestWatchQuietFindings(t *testing.T) {
	ctx := context.Background()
	w := newWenv(t)
	o := w.options()
	o.MinSeverity = ""
	w.clock.Set(w.end)
	w.once(o)
	info := 0
	for _, id := range w.exp.Identities {
		if id.Severity == triage.SeverityInfo {
			info++
		}
	}
	if info == 0 || info == len(w.exp.Identities) {
		t.Fatalf("synthetic tenant: %d of %d identities info", info, len(w.exp.Identities))
	}
	reported := map[string]bool{}
	for _, f := range w.findings() {
		if f.Severity == triage.SeverityInfo {
			t.Errorf("info finding raised: %s %s", f.User, f.Verdict)
		}
		reported[f.User] = true
	}
	if len(reported) != len(w.exp.Identities)-info {
		t.Errorf("%d identities reported, want %d", len(reported), len(w.exp.Identities)-info)
	}
	st, err := GetStatus(ctx, w.archive.State, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Identities != len(w.exp.Identities) || heldOf(st, "min-severity") != info || heldOf(st, "tenant") != 0 {
		t.Errorf("status: %d identities, held %+v; want %d, %d below the minimum", st.Identities, st.Held, len(w.exp.Identities), info)
	}

	// A tenant with two signin-only identities is disposed of.
	byTenant := map[string][]string{}
	for _, id := range w.exp.Identities {
		if id.Verdict == triage.VerdictSigninOnly && id.Class == triage.ClassPassthrough && strings.Contains(id.User, "@") {
			byTenant[id.HomeTenant] = append(byTenant[id.HomeTenant], id.User)
		}
	}
	var tenant string
	for k, us := range byTenant {
		if len(us) >= 2 && (tenant == "" || k < tenant) {
			tenant = k
		}
	}
	if tenant == "" {
		t.Fatal("no tenant with two signin-only identities")
	}
	medium, high := byTenant[tenant][0], byTenant[tenant][1]
	if _, err := DisposeTenant(ctx, w.archive.State, strings.ToUpper(tenant), Malicious, "", w.clock.Now()); err == nil {
		t.Error("a malicious tenant disposition was recorded")
	}
	if _, err := DisposeTenant(ctx, w.archive.State, strings.ToUpper(tenant), Benign, "partner", w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// medium edits a file (activity, medium); high reads a mailbox
	// (activity, high).
	at := w.end.Add(30 * time.Minute)
	w.addRecord("7d1c0f3e-0000-4000-8000-00000000b001", "FileModified", "SharePoint", medium, 6, at, `,"ObjectId":"https://contoso.sharepoint.com/sites/x/doc.docx"`)
	w.addRecord("7d1c0f3e-0000-4000-8000-00000000b002", "MailItemsAccessed", "Exchange", high, 50, at, `,"MailboxOwnerUPN":"ceo@contoso.com"`)
	w.out.Reset()
	w.clock.Set(w.end.Add(time.Hour))
	w.once(o)
	got := w.findings()
	if len(got) != 1 || got[0].User != high || got[0].Severity != triage.SeverityHigh || got[0].TenantDisposition == nil ||
		got[0].TenantDisposition.As != Benign || got[0].TenantDisposition.Note != "partner" {
		t.Fatalf("with %s disposed: findings %+v, want one high for %s naming the tenant disposition", tenant, got, high)
	}
	idm, _, _ := w.archive.State.GetIdentity(ctx, medium)
	if idm.Severity != triage.SeverityMedium || idm.Held != "tenant" || idm.ReportedVerdict != "" {
		t.Errorf("%s: %+v, want medium, held for its tenant, never reported", medium, idm)
	}
	st, _ = GetStatus(ctx, w.archive.State, w.clock.Now())
	if heldOf(st, "tenant") < 1 || len(st.Tenants) != 1 || st.Tenants[0].Tenant != tenant || st.Tenants[0].Identities < 2 {
		t.Errorf("status: held %+v, tenants %+v", st.Held, st.Tenants)
	}
	var text bytes.Buffer
	WriteText(&text, st, func(s string) string { return s })
	for _, want := range []string{"Held back", "below the minimum severity", tenant, "partner"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, text.String())
		}
	}
	// Withdrawn: what it held is reported on the next cycle.
	if found, err := w.archive.State.WithdrawTenant(ctx, tenant); err != nil || !found {
		t.Fatal(found, err)
	}
	w.out.Reset()
	w.clock.Set(w.end.Add(2 * time.Hour))
	w.once(o)
	got = w.findings()
	if len(got) != 1 || got[0].User != medium || got[0].Kind != "new" || got[0].Severity != triage.SeverityMedium || got[0].TenantDisposition != nil {
		t.Errorf("after withdrawing: findings %+v, want %s new at medium", got, medium)
	}
	// min-severity high holds back everything below high.
	o.MinSeverity = triage.SeverityHigh
	if _, err := Once(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.MinSeverity = "severe"
	if _, err := Once(ctx, o); err == nil {
		t.Error("an unknown minimum severity was accepted")
	}
}

func TestHumanLag(t *testing.T) {
	for secs, want := range map[int64]string{5: "5s", 300: "5m", 3*3600 + 720: "3h12m", 3 * 86400: "3d0h", -4: "0s"} {
		if got := humanLag(secs); got != want {
			t.Errorf("humanLag(%d) = %s, want %s", secs, got, want)
		}
	}
}

// TestStatusSaysInterrupted: a collect that an interruption ended is shown
// as interrupted, not FAILED; a failed one stays FAILED.
func TestStatusSaysInterrupted(t *testing.T) {
	for _, c := range []struct {
		run  RunStatus
		want string
	}{
		{RunStatus{Finished: "2026-12-07T10:00:00Z", Summary: state.InterruptedSummary + "ual 3 files"}, "last collect  2026-12-07T10:00:00Z interrupted: ual 3 files"},
		{RunStatus{Finished: "2026-12-07T10:00:00Z", Summary: "ual: 403"}, "last collect  2026-12-07T10:00:00Z FAILED: ual: 403"},
	} {
		var text strings.Builder
		r := c.run
		WriteText(&text, &Status{LastCollect: &r}, func(s string) string { return s })
		if !strings.Contains(text.String(), c.want) {
			t.Errorf("status said\n%s\nwant a line %q", text.String(), c.want)
		}
	}
}
