package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/collect/fakems"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestCollectFull collects the synthetic tenant from the fake and checks
// that the archive holds every record once per blob, every sign-in once,
// that triage finds exactly the expected identities in it, and that a
// second run fetches nothing again.
func TestCollectFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	sum, err := e.run(ctx, e.config())
	if err != nil {
		t.Fatalf("collect: %v\nlog:\n%s", err, e.log)
	}
	diffCounts(t, "ual", e.archived(DirUAL), e.wantUAL())
	diffCounts(t, "signins", e.archived(DirSignins), e.wantSignins())

	var blobs int64
	for _, s := range sum.Sources {
		if s.Source != state.SourceSignins {
			blobs += s.Archived
		}
		if s.Error != "" {
			t.Errorf("%s: %s", s.Source, s.Error)
		}
	}
	if int(blobs) != len(e.data.blobs) {
		t.Errorf("archived %d blobs, want %d", blobs, len(e.data.blobs))
	}
	// Every Management API request carried PublisherIdentifier; every
	// Graph request the Prefer header; subscriptions were started.
	started := 0
	for _, r := range e.fake.Requests() {
		switch {
		case strings.HasPrefix(r.Path, "/api/"):
			if !r.Publisher {
				t.Errorf("%s %s?%s without PublisherIdentifier", r.Method, r.Path, r.Query.Encode())
			}
			if strings.HasSuffix(r.Path, "/subscriptions/start") {
				started++
			}
		case strings.HasPrefix(r.Path, "/v1.0/"):
			if r.Prefer != "include-unknown-enum-members" {
				t.Errorf("Graph request without Prefer: include-unknown-enum-members")
			}
		}
		if r.Status >= 400 {
			t.Errorf("%s %s: %d", r.Method, r.Path, r.Status)
		}
	}
	if started != 4 {
		t.Errorf("%d subscriptions started, want 4", started)
	}
	// Pass-through survives in the archived sign-ins (Prefer honoured).
	found := false
	filepath.WalkDir(filepath.Join(e.dir, DirSignins), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			for _, l := range gunzipLines(t, p) {
				found = found || bytes.Contains(l, []byte(`"crossTenantAccessType":"passthrough"`))
			}
		}
		return nil
	})
	if !found {
		t.Error("no sign-in with crossTenantAccessType passthrough archived")
	}

	// triage reads the archive directly and finds the expected answers.
	paths, err := source.Expand([]string{filepath.Join(e.dir, DirUAL)})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := triage.Run(ctx, paths, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Input.Skipped != 0 || rep.Input.Records != e.data.expected.Records || rep.Input.Duplicates != int64(e.data.duplicates) {
		t.Errorf("triage read %d records, %d duplicates, %d skipped; want %d, %d, 0",
			rep.Input.Records, rep.Input.Duplicates, rep.Input.Skipped, e.data.expected.Records, e.data.duplicates)
	}
	got := map[string]string{}
	for _, id := range rep.Identities {
		got[id.User] = id.Verdict + "/" + id.Severity
	}
	for _, want := range e.data.expected.Identities {
		if g := got[want.User]; g != want.Verdict+"/"+want.Severity {
			t.Errorf("%s: triage says %q, want %s/%s", want.User, g, want.Verdict, want.Severity)
		}
	}
	// The whole archive, sign-ins included: the same identities and
	// verdicts (a sign-in in both logs counts once), seen in both logs.
	// Accounts with no usable name are the exception: each log keys them
	// differently (the UAL by Actor or UserKey, the fake's sign-in log only
	// by home tenant), and the log read first names them.
	all, err := source.Expand([]string{e.dir})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := triage.Run(ctx, all, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if whole.Input.Skipped != 0 {
		t.Errorf("whole archive: %d skipped: %v", whole.Input.Skipped, whole.Problems)
	}
	named := func(r *triage.Report) map[string]string {
		m := map[string]string{}
		for _, id := range r.Identities {
			if id.Class != triage.ClassExternalUnknown {
				m[id.User] = id.Verdict + "/" + id.Severity
			}
		}
		return m
	}
	wholeNamed, ualNamed := named(whole), named(rep)
	for user, v := range ualNamed {
		if wholeNamed[user] != v {
			t.Errorf("whole archive: %s is %q, the UAL alone says %q", user, wholeNamed[user], v)
		}
	}
	if len(wholeNamed) != len(ualNamed) {
		t.Errorf("whole archive: %d named identities, the UAL alone %d", len(wholeNamed), len(ualNamed))
	}
	for _, id := range whole.Identities {
		if id.Class != triage.ClassExternalUnknown && len(id.Sources) != 2 {
			t.Errorf("whole archive: %s seen in %v, want both logs", id.User, id.Sources)
		}
	}
	if len(rep.Identities) != len(e.data.expected.Identities) {
		t.Errorf("triage found %d identities, want %d", len(rep.Identities), len(e.data.expected.Identities))
	}

	// A second run an hour later lists again (overlap) but fetches nothing
	// it has, and the archive is unchanged.
	e.clock.Advance(time.Hour)
	before := len(e.fake.Requests())
	sum2, err := e.run(ctx, e.config())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range e.fake.Requests()[before:] {
		if strings.Contains(r.Path, "/activity/feed/audit/") {
			t.Errorf("second run fetched %s again", r.Path)
		}
	}
	for _, s := range sum2.Sources {
		if s.Source != state.SourceSignins && s.Archived != 0 {
			t.Errorf("second run archived %d %s blobs", s.Archived, s.Source)
		}
	}
	diffCounts(t, "ual after rerun", e.archived(DirUAL), e.wantUAL())
	diffCounts(t, "signins after rerun", e.archived(DirSignins), e.wantSignins())
}

// TestCollectFaults: throttling (429 with Retry-After, AF429 as 403),
// server errors, slow answers and bodies cut short are all retried, with
// Retry-After honoured, and the archive comes out complete.
func TestCollectFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Faults = fakems.Faults{
		Throttle429Every: 7, RetryAfter: "3",
		AF429Every:       11,
		ServerErrorEvery: 13,
		SlowEvery:        29, SlowFor: 2 * time.Second,
		TruncateEvery: 5,
	}
	cfg := e.config()
	cfg.Timeout = 300 * time.Millisecond
	// Every 5th, 7th, 11th, 13th and 29th request meets a fault, and on a
	// loaded machine an answer can also miss the 300 ms timeout: 8 tries
	// of one request all failed once in a full 'go test ./...' on 2 cores.
	// 16 keep this test about retrying rather than about luck.
	cfg.Retry.Attempts = 16
	sum, err := e.run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("collect: %v\nlog:\n%s", err, e.log)
	}
	diffCounts(t, "ual", e.archived(DirUAL), e.wantUAL())
	diffCounts(t, "signins", e.archived(DirSignins), e.wantSignins())
	if sum.Throttled == 0 || sum.Retries == 0 {
		t.Errorf("throttled %d, retries %d: faults were not seen", sum.Throttled, sum.Retries)
	}
	honoured := false
	for _, d := range e.sleeps {
		// The shared pause is counted from when it was set.
		honoured = honoured || d >= 2500*time.Millisecond
	}
	if !honoured {
		t.Errorf("no wait of Retry-After's 3 s among %v", e.sleeps)
	}
	var s403, s429, s5xx int
	for _, r := range e.fake.Requests() {
		switch {
		case r.Status == 403:
			s403++
		case r.Status == 429:
			s429++
		case r.Status >= 500:
			s5xx++
		}
	}
	if s403 == 0 || s429 == 0 || s5xx == 0 {
		t.Errorf("faults served: 403 %d, 429 %d, 5xx %d", s403, s429, s5xx)
	}
}

// TestRetryGivesUp: a service that only fails makes the run fail with the
// reason, after the configured attempts, with nothing recorded as done.
func TestRetryGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.failingConfig()
	_, err := e.run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "gave up after 8 attempts") || !strings.Contains(err.Error(), "AF50000") {
		t.Fatalf("err = %v", err)
	}
}

// TestSigninsForbidden: a tenant without Entra ID P1/P2 gets 403 from
// Graph; the audit records are still collected, the sign-ins fail with
// Graph's reason after a few requests, not one per hour.
func TestSigninsForbidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.GraphForbidden = true
	sum, err := e.run(context.Background(), e.config())
	if err == nil || !strings.Contains(err.Error(), "signins: ") || !strings.Contains(err.Error(), "NonPremiumTenant") {
		t.Fatalf("err = %v", err)
	}
	diffCounts(t, "ual", e.archived(DirUAL), e.wantUAL())
	graph := 0
	for _, r := range e.fake.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/") {
			graph++
		}
	}
	if graph > 8 {
		t.Errorf("%d Graph requests after a 403", graph)
	}
	for _, s := range sum.Sources {
		if (s.Error != "") != (s.Source == state.SourceSignins) {
			t.Errorf("%s: error %q", s.Source, s.Error)
		}
	}
}

// TestExpiredAndMalformed: expired content (AF20051) and a malformed blob
// are reported, not fatal; the malformed one is quarantined; neither is
// fetched again.
func TestExpiredAndMalformed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	exp := e.mark(3, true)
	bad := e.mark(10, false)
	sum, err := e.run(ctx, e.config())
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	diffCounts(t, "ual", e.archived(DirUAL), e.wantUAL())
	log := e.log.String()
	if !strings.Contains(log, exp.ContentID) || !strings.Contains(log, "AF20051") {
		t.Errorf("expired content not reported:\n%s", log)
	}
	if !strings.Contains(log, bad.ContentID) || !strings.Contains(log, "malformed") {
		t.Errorf("malformed content not reported:\n%s", log)
	}
	q := filepath.Join(e.dir, quarantinePath(bad.ContentType, bad.ContentID))
	if _, err := os.Stat(q); err != nil {
		t.Errorf("quarantine file: %v", err)
	}
	var expired, quarantined int64
	for _, s := range sum.Sources {
		expired += s.Expired
		quarantined += s.Quarantined
	}
	if expired != 1 || quarantined != 1 {
		t.Errorf("summary: expired %d, quarantined %d", expired, quarantined)
	}
	before := len(e.fake.Requests())
	if _, err := e.run(ctx, e.config()); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.fake.Requests()[before:] {
		if strings.Contains(r.Path, "/audit/") {
			t.Errorf("refetched %s", r.Path)
		}
	}
}

// TestKillAndResume cancels runs at random moments (at a random request,
// and at random between a file's rename and the record of its id), then
// resumes; afterwards every record is in the archive exactly once per
// blob and every sign-in exactly once.
func TestKillAndResume(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	e := newEnv(t)
	e.fake.Faults = fakems.Faults{Throttle429Every: 17, RetryAfter: "0", TruncateEvery: 23}
	defer func() { testHookAfterRename = nil }()
	killed := 0
	for round := 0; round < 12; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		base := len(e.fake.Requests())
		at := 1 + rnd.IntN(120)
		e.fake.OnRequest = func(n int) {
			if len(e.fake.Requests())-base >= at {
				cancel()
			}
		}
		var hookMu = make(chan struct{}, 1)
		hookMu <- struct{}{}
		p := rnd.Float64() * 0.3
		testHookAfterRename = func() {
			<-hookMu
			if rnd.Float64() < p {
				cancel()
			}
			hookMu <- struct{}{}
		}
		// A kill can leave a temporary file behind.
		os.MkdirAll(filepath.Join(e.dir, DirUAL, "2026-10-02"), 0o755)
		os.WriteFile(filepath.Join(e.dir, DirUAL, "2026-10-02", tmpPrefix+"leftover"), []byte("half"), 0o644)
		_, err := e.run(ctx, e.config())
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: %v", round, err)
		}
		if err != nil {
			killed++
		}
		// After every run, complete or not: no half file, no duplicate.
		got := e.archived(DirUAL)
		want := e.wantUAL()
		for id, n := range got {
			if n > want[id] {
				t.Fatalf("round %d: record %s archived %d times, want %d", round, id, n, want[id])
			}
		}
		for id, n := range e.archived(DirSignins) {
			if n > 1 {
				t.Fatalf("round %d: sign-in %s archived %d times", round, id, n)
			}
		}
		e.clock.Advance(time.Duration(rnd.IntN(90)) * time.Minute)
	}
	e.fake.OnRequest = nil
	testHookAfterRename = nil
	if _, err := e.run(context.Background(), e.config()); err != nil {
		t.Fatalf("final run: %v", err)
	}
	if killed == 0 {
		t.Error("no run was killed")
	}
	diffCounts(t, "ual", e.archived(DirUAL), e.wantUAL())
	diffCounts(t, "signins", e.archived(DirSignins), e.wantSignins())
}

// TestTokenRenewal: tokens that expire during the run are renewed before
// expiry, and a token revoked early (401) is renewed once and the request
// repeated.
func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.TokenLifetime = 4 * time.Minute
	// The clock moves 5 s per request: tokens expire many times over.
	e.fake.OnRequest = func(n int) { e.clock.Advance(5 * time.Second) }
	cfg := e.config()
	sum, err := e.run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("collect: %v\n%s", err, e.log)
	}
	diffCounts(t, "ual", e.archived(DirUAL), e.wantUAL())
	if n := len(e.fake.IssuedTokens()); n < 10 {
		t.Errorf("%d tokens issued; expected renewals", n)
	}
	for _, r := range e.fake.Requests() {
		if r.Status == 401 {
			t.Errorf("a request went out with an expired token: %s", r.Path)
		}
	}
	if sum.TokenRefreshes != 0 {
		t.Errorf("%d tokens renewed after a 401; renewal before expiry should avoid them", sum.TokenRefreshes)
	}

	// Early expiry: the service states an hour but expires tokens after
	// ten minutes, as when a token is revoked.
	e2 := newEnv(t)
	e2.fake.TokenLifetime = 10 * time.Minute
	e2.fake.OnRequest = func(n int) { e2.clock.Advance(20 * time.Second) }
	cfg2 := e2.config()
	sum2, err := e2.runWithStatedLifetime(context.Background(), cfg2, time.Hour)
	if err != nil {
		t.Fatalf("collect with early expiry: %v", err)
	}
	if sum2.TokenRefreshes == 0 {
		t.Error("no token renewed after a 401")
	}
	diffCounts(t, "ual (early expiry)", e2.archived(DirUAL), e2.wantUAL())
}

// runWithStatedLifetime runs with the fake stating a token lifetime longer
// than the one it enforces.
func (e *env) runWithStatedLifetime(ctx context.Context, cfg Config, stated time.Duration) (*Summary, error) {
	e.fake.StatedLifetime = stated
	return e.run(ctx, cfg)
}

// TestCertificateCredentials: a signed client assertion gets tokens; a
// certificate the app does not have is refused with Entra's reason.
func TestCertificateCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.certConfig(t)
	cfg.ContentTypes = []string{"Audit.SharePoint"}
	if _, err := e.run(context.Background(), cfg); err != nil {
		t.Fatalf("collect with a certificate: %v", err)
	}
	other, _ := testCert(t, t.TempDir())
	c2, k2, _ := ReadCertificate(other, "")
	cfg.Credentials = &Credentials{TenantID: e.data.expected.TenantID, ClientID: testClientID, Cert: c2, Key: k2}
	_, err := e.run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Fatalf("wrong certificate: err = %v", err)
	}
}

// TestSecretNeverWritten runs with a right and a wrong secret and looks
// for the secret and every access token in the log, the errors, the
// summary, every archive file (decompressed) and the state database.
func TestSecretNeverWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.mark(2, false)
	sum, err := e.run(ctx, e.config())
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	texts = append(texts, e.log.String(), fmt.Sprintf("%v %+v %#v", sum, sum, e.config()))
	// A wrong secret: the error explains, without the secret either.
	cfg := e.config()
	cfg.Credentials = &Credentials{TenantID: e.data.expected.TenantID, ClientID: testClientID, Secret: NewSecret(testSecret + "x")}
	_, err = e.run(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("wrong secret: err = %v", err)
	}
	texts = append(texts, err.Error(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg.Credentials))
	needles := append([]string{testSecret}, e.fake.IssuedTokens()...)
	for _, txt := range texts {
		for _, n := range needles {
			if strings.Contains(txt, n) {
				t.Fatalf("secret or token %q printed in %q", n[:8], txt)
			}
		}
	}
	testutil.AssertNotInDir(t, e.dir, needles, 3)
}

// TestWindowLimits: after a long outage the resume point is older than 7
// days; the run reports the gap and asks only for windows the API
// accepts (no AF20030 or AF20055).
func TestWindowLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	a, err := OpenArchive(ctx, e.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	old := e.clock.Now().Add(-9 * 24 * time.Hour)
	a.State.RecordWindow(ctx, state.Window{Source: "Audit.Exchange", Start: old.Add(-time.Hour), End: old, Final: true, DoneAt: old})
	a.Close()
	cfg := e.config()
	cfg.Signins = false
	if _, err := e.run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.log.String(), "Audit.Exchange: content created from") || !strings.Contains(e.log.String(), "a gap") {
		t.Errorf("gap not reported:\n%s", e.log)
	}
	for _, r := range e.fake.Requests() {
		if r.Status == 400 {
			t.Errorf("%s?%s answered 400", r.Path, r.Query.Encode())
		}
		if strings.HasSuffix(r.Path, "/subscriptions/content") && r.Query.Get("startTime") != "" {
			st, _ := time.Parse(apiTime, r.Query.Get("startTime"))
			en, _ := time.Parse(apiTime, r.Query.Get("endTime"))
			if en.Sub(st) > 24*time.Hour || !en.After(st) {
				t.Errorf("window %s..%s", st, en)
			}
		}
	}
}

// TestFakeValidatesWindows checks the fake's own contract (so the tests
// above would notice a collector that asked for a bad window).
func TestFakeValidatesWindows(t *testing.T) {
	e := newEnv(t)
	e.fake.Subscribe("Audit.Exchange")
	cfg := e.config()
	c := &client{hc: e.srv.Client(), retry: cfg.Retry, timeout: time.Second, sleep: cfg.Sleep, redact: func(s string) string { return s }, stats: &Stats{}, rnd: rand.New(rand.NewPCG(1, 2))}
	m := newManageClient(c, newTokenSource(c, cfg.Credentials, e.srv.URL, "https://manage.office.com", e.clock.Now), e.srv.URL, e.data.expected.TenantID, "p")
	now := e.clock.Now()
	for _, tc := range []struct {
		start, end time.Time
		code       string
	}{
		{now.Add(-25 * time.Hour), now, "AF20030"},
		{now.Add(-8 * 24 * time.Hour), now.Add(-8*24*time.Hour + time.Hour), "AF20055"},
		{now.Add(-time.Hour), now.Add(-2 * time.Hour), "AF20030"},
	} {
		err := m.list(context.Background(), "Audit.Exchange", tc.start, tc.end, func([]contentItem) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.code) {
			t.Errorf("%s..%s: err = %v, want %s", tc.start, tc.end, err, tc.code)
		}
	}
	err := m.list(context.Background(), "Audit.General", now.Add(-time.Hour), now, func([]contentItem) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "AF20022") {
		t.Errorf("unsubscribed: err = %v", err)
	}
}

// TestTokenOnlyToItsOrigin: a contentUri or next link on another host
// never gets the bearer token.
func TestTokenOnlyToItsOrigin(t *testing.T) {
	m := &manageClient{base: "https://manage.office.com"}
	_, err := m.get(context.Background(), "https://evil.example/api/v1.0/x/activity/feed/audit/1", "fetching")
	if err == nil || !strings.Contains(err.Error(), "refusing to send the access token") {
		t.Fatalf("err = %v", err)
	}
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{"https://manage.office.com", true},
		{"http://127.0.0.1:8080/", true},
		{"http://localhost:1", true},
		{"http://manage.office.com", false},
		{"ftp://x", false},
		{"https://x/?a=b", false},
		{"manage.office.com", false},
	} {
		_, err := CheckEndpoint(tc.raw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckEndpoint(%q) = %v", tc.raw, err)
		}
	}
}

// TestSecretRedacted: however a Secret is printed, it is not.
func TestSecretRedacted(t *testing.T) {
	c := Credentials{TenantID: "t", ClientID: "c", Secret: NewSecret(testSecret)}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%q", c.Secret), fmt.Sprintf("%x", c.Secret)} {
		if strings.Contains(s, testSecret) {
			t.Errorf("printed: %s", s)
		}
	}
	if got := c.Redact("x " + testSecret + " y"); strings.Contains(got, testSecret) {
		t.Errorf("Redact: %s", got)
	}
}

func TestFileStemUnique(t *testing.T) {
	a := fileStem("Audit.General", "a$b")
	b := fileStem("Audit.General", "a_b")
	if a == b {
		t.Fatalf("%s == %s", a, b)
	}
	long := strings.Repeat("x", 500)
	if s := fileStem("Audit.General", long); len(s) > 140 {
		t.Fatalf("stem of %d bytes", len(s))
	}
}
