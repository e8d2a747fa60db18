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

func TestCheckWrongSecret(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	cfg := e.config()
	cfg.Credentials.Secret = NewSecret(testSecret + "-wrong")
	rep, _ := runCheck(t, e, cfg)
	wantFail(t, rep, "token for Office 365 Management APIs", "AADSTS7000215", "Certificates & secrets")
}

func TestCheckMissingRole(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	e.fake.Roles = map[string][]string{"https://manage.office.com": {}, "https://graph.microsoft.com": {"AuditLog.Read.All"}}
	rep, _ := runCheck(t, e, e.config())
	wantFail(t, rep, "permissions for Office 365 Management APIs", "missing ActivityFeed.Read", "Grant admin consent")
	if r := result(t, rep, "permissions for Microsoft Graph"); r.Status != CheckOK {
		t.Errorf("Graph permissions: %+v", r)
	}
}

func TestCheckMissingGraphRole(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	e.fake.Roles = map[string][]string{"https://manage.office.com": {"ActivityFeed.Read"}, "https://graph.microsoft.com": {"User.Read.All"}}
	rep, _ := runCheck(t, e, e.config())
	wantFail(t, rep, "permissions for Microsoft Graph", "missing AuditLog.Read.All", "Microsoft Graph > Application permissions > AuditLog.Read.All")
}

// TestCheckClosedPort: an endpoint nobody listens on fails at TCP with
// the cause; the calls to it are skipped, not failed again.
func TestCheckClosedPort(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	cfg := e.config()
	cfg.Cloud.ManageURL = closed
	rep, _ := runCheck(t, e, cfg)
	wantFail(t, rep, "reach "+strings.TrimPrefix(closed, "http://"), "connection refused", "firewall")
	if r := result(t, rep, "subscriptions"); r.Status != CheckSkip {
		t.Errorf("subscriptions: %+v", r)
	}
}

// TestCheckDNS: a name that does not resolve fails at DNS with the
// resolver's words.
func TestCheckDNS(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	cfg := e.config()
	cfg.Cloud.LoginURL = "https://login.example.invalid"
	cfg.lookupHost = func(ctx context.Context, host string) ([]string, error) {
		if host == "login.example.invalid" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []string{"127.0.0.1"}, nil
	}
	rep, _ := runCheck(t, e, cfg)
	wantFail(t, rep, "reach login.example.invalid:443", "lookup login.example.invalid: no such host", "DNS")
	if r := result(t, rep, "access token"); r.Status != CheckSkip {
		t.Errorf("token: %+v", r)
	}
}

// TestCheckUntrustedTLS: a certificate the client does not trust (a TLS
// inspecting proxy) fails with the way out: --ca-file, not switching
// verification off.
func TestCheckUntrustedTLS(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	cfg := e.config()
	cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	rep, _ := runCheck(t, e, cfg)
	wantFail(t, rep, "reach 127.0.0.1", "certificate", "--ca-file")
}

func TestCheckAuditingOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.AuditingDisabled = true
	rep, _ := runCheck(t, e, e.config())
	wantFail(t, rep, "subscription Audit.Exchange", "AF20023", "UnifiedAuditLogIngestionEnabled")
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
