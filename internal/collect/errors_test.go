package collect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/collect/fakems"
)

// TestUnreachableSaidOnce: with the sign-in endpoint unreachable, every
// source fails; the cause is printed at once with the retry it leads to,
// then only counted, and the run's error names it once per distinct
// failure, not once per source.
func TestUnreachableSaidOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addr := closedAddr(t)
	cfg := e.config()
	cfg.Cloud.LoginURL = "http://" + addr
	_, err := e.run(context.Background(), cfg)
	log := e.log.String()
	t.Logf("log:\n%s\nerror: %v", log, err)
	if err == nil {
		t.Fatal("no error with the sign-in endpoint unreachable")
	}
	first := regexp.MustCompile(`(?m)^outsider: cannot reach ` + regexp.QuoteMeta(addr) + `: .*connection refused; retrying \(1/7\) in `)
	if n := len(first.FindAllString(log, -1)); n != 1 {
		t.Errorf("the first failure is printed %d times, want once", n)
	}
	if !regexp.MustCompile(`(?m)^outsider: cannot reach ` + regexp.QuoteMeta(addr) + `: .*connection refused: \d+ times in all`).MatchString(log) {
		t.Errorf("no count of the repeated failure")
	}
	if n := strings.Count(log, "\n"); n > 6 {
		t.Errorf("%d log lines for one cause", n)
	}
	if n := strings.Count(err.Error(), "connection refused"); n != 1 {
		t.Errorf("the cause is repeated %d times in the error (one per source?):\n%v", n, err)
	}
}

// TestWrongSecretSaidOnce: a refused secret is asked for once and named
// once, for all sources.
func TestWrongSecretSaidOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.config()
	cfg.Credentials = &Credentials{TenantID: e.data.expected.TenantID, ClientID: testClientID, Secret: NewSecret("wrong-" + testSecret)}
	sum, err := e.run(context.Background(), cfg)
	if err == nil {
		t.Fatal("no error with a wrong secret")
	}
	if n := strings.Count(err.Error(), "AADSTS7000215"); n != 1 {
		t.Errorf("AADSTS7000215 %d times in the error:\n%v", n, err)
	}
	if !strings.Contains(err.Error(), "Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, signins: ") {
		t.Errorf("the error does not name the sources once: %v", err)
	}
	if n := strings.Count(sum.line(), "AADSTS7000215"); n != 1 {
		t.Errorf("run history names it %d times", n)
	}
	tokens := 0
	for _, r := range e.fake.Requests() {
		if strings.HasSuffix(r.Path, "/token") {
			tokens++
		}
	}
	if tokens != 1 {
		t.Errorf("%d token requests with a refused secret, want 1", tokens)
	}
}

// TestGiveUpAfter: a request that keeps failing stops once its waits
// would pass GiveUpAfter, before its attempts run out, and says so.
func TestGiveUpAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.failingConfig()
	cfg.Retry = Retry{Attempts: 8, Base: time.Second, Max: 4 * time.Second, MaxRetryAfter: time.Minute}
	cfg.GiveUpAfter = 5 * time.Second
	_, err := e.run(context.Background(), cfg)
	if err == nil || !regexp.MustCompile(`gave up after [2-4] attempts over \ds: server error 500`).MatchString(err.Error()) {
		t.Fatalf("err = %v", err)
	}
	var total time.Duration
	for _, d := range e.sleeps {
		total += d
	}
	if total > cfg.GiveUpAfter {
		t.Errorf("waited %s, more than --give-up-after %s", total, cfg.GiveUpAfter)
	}
	if !strings.Contains(e.log.String(), "giving up") {
		t.Errorf("log does not say it gives up:\n%s", e.log)
	}
}

// TestSigninsFetchedTo: the current sign-in hour is recorded as fetched
// up to what Graph was asked for (the run's start), not up to when the
// fetch was recorded; Graph is asked with the documented ge/le.
func TestSigninsFetchedTo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.Advance(20*time.Minute + 17*time.Second)
	start := e.clock.Now().UTC().Truncate(time.Second)
	// The clock moves on while the run works.
	e.fake.OnRequest = func(int) { e.clock.Advance(time.Second) }
	cfg := e.config()
	cfg.ContentTypes = []string{"Audit.Exchange"}
	if _, err := e.run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	a, err := OpenArchive(context.Background(), e.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w, ok, err := a.State.LastWindow(context.Background(), "signins")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !w.FetchedTo.Equal(start) || !w.DoneAt.After(start) {
		t.Errorf("current hour: fetched to %v (want the run's start %v), done at %v", w.FetchedTo, start, w.DoneAt)
	}
	le := start.Add(-100 * time.Nanosecond).Format("2006-01-02T15:04:05.0000000Z07:00")
	found := false
	for _, r := range e.fake.Requests() {
		if f := r.Query.Get("$filter"); strings.HasSuffix(f, "createdDateTime le "+le) {
			found = true
		}
		if strings.Contains(r.Query.Get("$filter"), " lt ") {
			t.Errorf("undocumented lt in %q", r.Query.Get("$filter"))
		}
	}
	if !found {
		t.Errorf("no request asked for sign-ins up to le %s", le)
	}
}

// TestSigninHourBoundary: a sign-in at exactly the end of an hour is in
// the next hour's file only.
func TestSigninHourBoundary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.data.now.Add(-5 * time.Hour).Truncate(time.Hour)
	e.fake.AddSignIns(fakems.SignIn{Created: h, JSON: []byte(`{"id":"edge-0001","createdDateTime":"` + h.Format(time.RFC3339) + `"}`)})
	cfg := e.config()
	cfg.ContentTypes = []string{"Audit.Exchange"}
	if _, err := e.run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	got := e.archived(DirSignins)
	if got["edge-0001"] != 1 {
		t.Errorf("the sign-in at %s archived %d times, want once", h, got["edge-0001"])
	}
	for _, line := range gunzipLines(t, filepath.Join(e.dir, signinPath(h))) {
		if strings.Contains(string(line), "edge-0001") {
			return
		}
	}
	t.Errorf("the sign-in at %s is not in its own hour's file", h)
}

// TestInterruptedSaidSo: a run stopped by Ctrl-C reports its sources as
// interrupted, not as failed with "context canceled", and is recorded as
// an interrupted run with what it archived, so that 'outsider status'
// does not answer "never" after a first run that archived files.
func TestInterruptedSaidSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.fake.OnRequest = func(n int) {
		if n == 30 {
			cancel()
		}
	}
	sum, err := e.run(ctx, e.config())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	interrupted := 0
	for _, s := range sum.Sources {
		if s.Error != "" {
			t.Errorf("%s: error %q, want interrupted", s.Source, s.Error)
		}
		if s.Interrupted {
			interrupted++
		}
	}
	if interrupted == 0 {
		t.Errorf("no source said interrupted: %+v", sum.Sources)
	}
	a, err := OpenArchive(context.Background(), e.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r, ok, err := a.State.LastRun(context.Background(), "collect")
	if err != nil || !ok {
		t.Fatalf("no run recorded: %v %v", ok, err)
	}
	if r.OK || !strings.HasPrefix(r.Summary, "interrupted: ") {
		t.Errorf("run recorded %+v, want not OK and 'interrupted: ...'", r)
	}
}

// TestLockedSaysWhatToDo: a second run on an archive in use is refused
// with what to do, not only that the archive is in use.
func TestLockedSaysWhatToDo(t *testing.T) {
	if !canLock {
		t.Skip("no archive lock on this system")
	}
	dir := t.TempDir()
	a, err := OpenArchive(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = OpenArchive(context.Background(), dir, "")
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	for _, want := range []string{dir, "wait for it to end or stop it", "a running watch", "outsider status --archive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
}

// TestRunSaysNextStep: a run refused by the service says what to do, as
// --check would, and a refusal of every sign-in hour is one line, not one
// per hour: an admin who runs collect before --check is not left with
// the bare code.
func TestRunSaysNextStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		brk   func(e *env, cfg *Config)
		code  string
		next  string
		count int
	}{
		{"wrong secret", func(e *env, cfg *Config) {
			cfg.Credentials = &Credentials{TenantID: e.data.expected.TenantID, ClientID: testClientID, Secret: NewSecret("wrong-" + testSecret)}
		}, "AADSTS7000215", "next: the client secret is wrong", 1},
		{"no P1", func(e *env, cfg *Config) { e.fake.GraphForbidden = true }, "NonPremiumTenant", "next: reading sign-in logs through Graph needs a Microsoft Entra ID P1 or P2 licence", 1},
		{"no ActivityFeed.Read", func(e *env, cfg *Config) {
			e.fake.Roles = map[string][]string{"https://manage.office.com": {}, "https://graph.microsoft.com": {"AuditLog.Read.All"}}
		}, "AF10001", "next: the token lacks ActivityFeed.Read", 1},
		{"no AuditLog.Read.All", func(e *env, cfg *Config) {
			e.fake.Roles = map[string][]string{"https://manage.office.com": {"ActivityFeed.Read"}, "https://graph.microsoft.com": {}}
		}, "Authorization_RequestDenied", "next: add AuditLog.Read.All as an Application permission of Microsoft Graph and grant admin consent; or, to collect the audit log alone for now, run with --no-signins", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := e.config()
			tc.brk(e, &cfg)
			_, err := e.run(context.Background(), cfg)
			if err == nil {
				t.Fatal("no error")
			}
			if n := strings.Count(err.Error(), tc.code); n != tc.count {
				t.Errorf("%s %d times, want %d:\n%v", tc.code, n, tc.count, err)
			}
			if !strings.Contains(err.Error(), tc.next) {
				t.Errorf("no %q in:\n%v", tc.next, err)
			}
		})
	}
}

// TestDeadProxySaysSo: behind a proxy that is down (HTTPS_PROXY to a
// dead port) the run's error names the proxy setting to check.
func TestDeadProxySaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	proxy := &url.URL{Scheme: "http", Host: closedAddr(t)}
	cfg := e.config()
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return proxy, nil }}}
	_, err := e.run(context.Background(), cfg)
	if err == nil {
		t.Fatal("no error through a dead proxy")
	}
	if !strings.Contains(err.Error(), "proxyconnect") || !strings.Contains(err.Error(), "next: the proxy in HTTPS_PROXY") {
		t.Errorf("the error does not name the proxy setting:\n%v", err)
	}
}

// TestDiskFullSaysSo: a full disk under the archive (ENOSPC writing a
// file, SQLITE_FULL in the state database) ends with the step to take,
// and the error itself stays what it was for errors.Is.
func TestDiskFullSaysSo(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&os.PathError{Op: "write", Path: "/archive/ual/2026-12-07/x.jsonl.gz", Err: syscall.ENOSPC},
		errors.New("state /archive/.outsider/state.db: database or disk is full (13)"),
	} {
		got := withNext(err)
		if !errors.Is(got, err) || !strings.Contains(got.Error(), "next: the disk holding the archive") {
			t.Errorf("withNext(%v) = %v", err, got)
		}
	}
	if err := errors.New("some other failure"); withNext(err) != err {
		t.Errorf("an unrelated error gained a step: %v", withNext(err))
	}
}

// TestRefusalNotHiddenByInterruption: a source's own failure stays said as
// a failure when the run is interrupted after it; only what the
// interruption stopped reads as interrupted.
func TestRefusalNotHiddenByInterruption(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var refused, stopped SourceSummary
	refused.fail(ctx, errors.New("listing content: 403 AF10001"), &Credentials{})
	stopped.fail(ctx, fmt.Errorf("listing content: %w", context.Canceled), &Credentials{})
	if refused.Interrupted || refused.Error == "" {
		t.Errorf("a refusal before the interruption: interrupted %v, error %q", refused.Interrupted, refused.Error)
	}
	if !stopped.Interrupted || stopped.Error != "" {
		t.Errorf("what the interruption stopped: interrupted %v, error %q", stopped.Interrupted, stopped.Error)
	}
}
