package collect

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkEnv is the fake with every default subscription enabled: a set-up
// that works.
func checkEnv(t *testing.T) *env {
	e := newEnv(t)
	for _, ct := range DefaultContentTypes {
		e.fake.Subscribe(ct)
	}
	return e
}

// runCheck checks e's set-up with cfg and returns the report and its text.
func runCheck(t *testing.T, e *env, cfg Config) (*CheckReport, string) {
	t.Helper()
	rep := Check(context.Background(), filepath.Join(e.dir, "archive"), cfg)
	var b bytes.Buffer
	WriteCheck(&b, rep)
	t.Logf("check:\n%s", b.String())
	if strings.Contains(b.String(), testSecret) {
		t.Errorf("the check printed the secret")
	}
	for _, tok := range e.fake.IssuedTokens() {
		if strings.Contains(b.String(), tok) {
			t.Errorf("the check printed an access token")
		}
	}
	return rep, b.String()
}

// result returns the first result whose name starts with prefix.
func result(t *testing.T, rep *CheckReport, prefix string) CheckResult {
	t.Helper()
	for _, r := range rep.Results {
		if strings.HasPrefix(r.Name, prefix) {
			return r
		}
	}
	t.Fatalf("no check named %q in %+v", prefix, rep.Results)
	return CheckResult{}
}

// wantFail asserts that the check failed, that the line named prefix
// failed with want in its detail and a next step.
func wantFail(t *testing.T, rep *CheckReport, prefix, want, next string) {
	t.Helper()
	if rep.OK {
		t.Errorf("check OK with a broken set-up")
	}
	r := result(t, rep, prefix)
	if r.Status != CheckFail || !strings.Contains(r.Detail, want) || !strings.Contains(r.Next, next) {
		t.Errorf("%s: %s %q next %q; want FAIL with %q and next step %q", prefix, r.Status, r.Detail, r.Next, want, next)
	}
}

// TestCheckGood: a working set-up passes every check and is said so.
func TestCheckGood(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	rep, out := runCheck(t, e, e.config())
	if !rep.OK {
		t.Fatalf("check failed on a good set-up:\n%s", out)
	}
	for _, r := range rep.Results {
		if r.Status != CheckOK {
			t.Errorf("%s: %s %s", r.Name, r.Status, r.Detail)
		}
	}
	for _, want := range []string{"TLS", "verified", "roles ActivityFeed.Read", "roles AuditLog.Read.All",
		"subscription Audit.Exchange: enabled", "content blobs listed", "sign-ins: Graph answers", "writable"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q", want)
		}
	}
}

// TestCheckNewSubscription: a subscription not started yet is started
// and said to be new (content may take hours); collection can work.
func TestCheckNewSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rep, _ := runCheck(t, e, e.config())
	if !rep.OK {
		t.Fatal("a subscription not started yet failed the check")
	}
	r := result(t, rep, "subscription Audit.SharePoint")
	if r.Status != CheckWarn || !strings.Contains(r.Detail, "started now") || !strings.Contains(r.Detail, "12 hours") {
		t.Errorf("new subscription: %+v", r)
	}
}

// TestCheckBroken: each broken set-up fails the check at the line that
// names it, with the cause and the next step; a line that depends on it is
// skipped, not failed again, and one that does not still passes.
func TestCheckBroken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// fresh starts from a fake with no subscription started.
		fresh bool
		// breakSetUp breaks e or cfg; it returns the name of the failing
		// line when that depends on the set-up, "" for line.
		breakSetUp       func(e *env, cfg *Config) string
		line, want, next string
		// skipped names a line that must be skipped, ok one that must pass.
		skipped, ok string
	}{
		{
			name: "wrong secret",
			breakSetUp: func(e *env, cfg *Config) string {
				cfg.Credentials.Secret = NewSecret(testSecret + "-wrong")
				return ""
			},
			line: "token for Office 365 Management APIs", want: "AADSTS7000215", next: "Certificates & secrets",
		},
		{
			// The "next" names the config file's key too: an admin
			// following docs/live-collection.md sets tenant_id, not
			// --tenant-id.
			name: "wrong tenant",
			breakSetUp: func(e *env, cfg *Config) string {
				cfg.Credentials.TenantID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
				return ""
			},
			line: "token for Office 365 Management APIs", want: "AADSTS90002", next: "--tenant-id (tenant_id in --config)",
		},
		{
			name: "wrong client id",
			breakSetUp: func(e *env, cfg *Config) string {
				cfg.Credentials.ClientID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
				return ""
			},
			line: "token for Office 365 Management APIs", want: "AADSTS700016", next: "--client-id (client_id in --config)",
		},
		{
			// A certificate the app does not have (not uploaded, or
			// another one): the upload or the file, both named.
			name: "unknown certificate",
			breakSetUp: func(e *env, cfg *Config) string {
				*cfg = e.certConfig(e.t)
				_, other := testCert(e.t, e.t.TempDir())
				e.fake.Cert = other
				return ""
			},
			line: "token for Office 365 Management APIs", want: "AADSTS700027", next: "certificate_file in --config",
		},
		{
			name: "missing role",
			breakSetUp: func(e *env, cfg *Config) string {
				e.fake.Roles = map[string][]string{"https://manage.office.com": {}, "https://graph.microsoft.com": {"AuditLog.Read.All"}}
				return ""
			},
			line: "permissions for Office 365 Management APIs", want: "missing ActivityFeed.Read", next: "Grant admin consent",
			ok: "permissions for Microsoft Graph",
		},
		{
			name: "missing Graph role",
			breakSetUp: func(e *env, cfg *Config) string {
				e.fake.Roles = map[string][]string{"https://manage.office.com": {"ActivityFeed.Read"}, "https://graph.microsoft.com": {"User.Read.All"}}
				return ""
			},
			line: "permissions for Microsoft Graph", want: "missing AuditLog.Read.All", next: "Microsoft Graph > Application permissions > AuditLog.Read.All",
		},
		{
			// An endpoint nobody listens on fails at TCP with the cause.
			name: "closed port",
			breakSetUp: func(e *env, cfg *Config) string {
				closed := closedAddr(e.t)
				cfg.Cloud.ManageURL = "http://" + closed
				return "reach " + closed
			},
			want: "connection refused", next: "firewall",
			skipped: "subscriptions",
		},
		{
			// A name that does not resolve fails at DNS with the
			// resolver's words.
			name: "DNS",
			breakSetUp: func(e *env, cfg *Config) string {
				cfg.Cloud.LoginURL = "https://login.example.invalid"
				cfg.lookupHost = func(ctx context.Context, host string) ([]string, error) {
					if host == "login.example.invalid" {
						return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
					}
					return []string{"127.0.0.1"}, nil
				}
				return ""
			},
			line: "reach login.example.invalid:443", want: "lookup login.example.invalid: no such host", next: "DNS",
			skipped: "access token",
		},
		{
			// A certificate the client does not trust (a TLS inspecting
			// proxy) fails with the way out: --ca-file, not switching
			// verification off.
			name: "untrusted TLS",
			breakSetUp: func(e *env, cfg *Config) string {
				cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
				return ""
			},
			line: "reach 127.0.0.1", want: "certificate", next: "--ca-file",
		},
		{
			// A machine whose clock is ten minutes off signs assertions
			// Entra ID finds out of their time range: the step is the
			// clock, not the certificate.
			name: "clock off",
			breakSetUp: func(e *env, cfg *Config) string {
				*cfg = e.certConfig(e.t)
				e.fake.Now = func() time.Time { return e.clock.Now().Add(11 * time.Minute) }
				return ""
			},
			line: "token for Office 365 Management APIs", want: "AADSTS700024", next: "clock",
		},
		{
			name:  "auditing off",
			fresh: true,
			breakSetUp: func(e *env, cfg *Config) string {
				e.fake.AuditingDisabled = true
				return ""
			},
			line: "subscription Audit.Exchange", want: "AF20023", next: "UnifiedAuditLogIngestionEnabled",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e *env
			if tc.fresh {
				e = newEnv(t)
			} else {
				e = checkEnv(t)
			}
			cfg := e.config()
			line := tc.line
			if l := tc.breakSetUp(e, &cfg); l != "" {
				line = l
			}
			rep, _ := runCheck(t, e, cfg)
			wantFail(t, rep, line, tc.want, tc.next)
			if tc.skipped != "" {
				if r := result(t, rep, tc.skipped); r.Status != CheckSkip {
					t.Errorf("%s: %+v", tc.skipped, r)
				}
			}
			if tc.ok != "" {
				if r := result(t, rep, tc.ok); r.Status != CheckOK {
					t.Errorf("%s: %+v", tc.ok, r)
				}
			}
		})
	}
}

func TestCheckNoPremium(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	e.fake.GraphForbidden = true
	rep, _ := runCheck(t, e, e.config())
	wantFail(t, rep, "sign-ins", "NonPremiumTenant", "Entra ID P1 or P2")
	// Without sign-ins the same tenant can collect.
	cfg := e.config()
	cfg.Signins = false
	if rep, out := runCheck(t, e, cfg); !rep.OK {
		t.Errorf("--no-signins still fails:\n%s", out)
	}
}

func TestCheckArchiveNotWritable(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	file := filepath.Join(e.dir, "file")
	if err := writeAtomic(file, func(w io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rep := Check(context.Background(), filepath.Join(file, "archive"), e.config())
	wantFail(t, rep, "archive", "not a directory", "--archive")
}

// TestTokenRoles reads the roles claim and refuses what is no JWT.
func TestTokenRoles(t *testing.T) {
	roles, err := tokenRoles("eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJBY3Rpdml0eUZlZWQuUmVhZCJdfQ.c2ln")
	if err != nil || len(roles) != 1 || roles[0] != "ActivityFeed.Read" {
		t.Errorf("roles %v, %v", roles, err)
	}
	for _, bad := range []string{"", "opaque", "a.b", "a.!!!.c", "a.bm90IGpzb24.c"} {
		if _, err := tokenRoles(bad); err == nil {
			t.Errorf("tokenRoles(%q) took it", bad)
		}
	}
}

// FuzzTokenRoles: whatever a token endpoint sends as access_token, the
// roles reader answers roles or an error, never a panic.
func FuzzTokenRoles(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJBY3Rpdml0eUZlZWQuUmVhZCJdfQ.c2ln")
	f.Add("a.eyJyb2xlcyI6bnVsbH0.c")
	f.Add("a.eyJyb2xlcyI6WzEsMl19.c")
	f.Add("opaque")
	f.Fuzz(func(t *testing.T, tok string) {
		roles, err := tokenRoles(tok)
		if err != nil && roles != nil {
			t.Errorf("roles %v with error %v", roles, err)
		}
	})
}

// TestCheckArchiveRoomLeft: --check warns, with the next step, when the
// archive's disk has less room left than minFreeBytes (a full disk made
// collect fail after --check had said "writable"), and says "writable"
// when the room is enough.
func TestCheckArchiveRoomLeft(t *testing.T) {
	dir := t.TempDir()
	if _, ok := freeBytes(dir); !ok {
		t.Skip("this system does not say how much room is left")
	}
	old := minFreeBytes
	t.Cleanup(func() { minFreeBytes = old })
	minFreeBytes = 0 // whatever room this machine has left
	var rep CheckReport
	checkArchive(&rep, dir)
	if len(rep.Results) != 1 || rep.Results[0].Status != CheckOK || rep.Results[0].Detail != "writable" {
		t.Fatalf("with room left: %+v", rep.Results)
	}
	minFreeBytes = 1 << 62
	rep = CheckReport{}
	checkArchive(&rep, dir)
	if len(rep.Results) != 1 || rep.Results[0].Status != CheckWarn ||
		!strings.Contains(rep.Results[0].Detail, "MB free on its disk") || !strings.Contains(rep.Results[0].Next, "--archive") {
		t.Errorf("with too little room: %+v", rep.Results)
	}
}

// TestCheckClockSkew: with a client secret a clock off by minutes breaks
// no sign-in, so only the service's Date header can tell; --check warns
// with the skew and the step, and the check still passes. Within the
// tolerance it says nothing.
func TestCheckClockSkew(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	e.fake.Now = func() time.Time { return e.clock.Now().Add(11 * time.Minute) }
	rep, out := runCheck(t, e, e.config())
	if !rep.OK {
		t.Fatalf("a clock off by 11 minutes failed the check:\n%s", out)
	}
	r := result(t, rep, "clock")
	if r.Status != CheckWarn || !strings.Contains(r.Detail, "11m0s behind") || !strings.Contains(r.Next, "NTP") {
		t.Errorf("clock: %s %q next %q", r.Status, r.Detail, r.Next)
	}
	e2 := checkEnv(t)
	e2.fake.Now = func() time.Time { return e2.clock.Now().Add(-2 * time.Minute) }
	rep, _ = runCheck(t, e2, e2.config())
	for _, r := range rep.Results {
		if r.Name == "clock" {
			t.Errorf("a clock 2 minutes off is warned of: %q", r.Detail)
		}
	}
}
