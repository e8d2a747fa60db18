package collect

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Check statuses. A check that fails means collection cannot work until
// it is fixed; a warning is worth reading but collection works.
const (
	CheckOK   = "ok"
	CheckWarn = "warn"
	CheckFail = "FAIL"
	CheckSkip = "skip"
)

// CheckResult is one line of 'outsider collect --check'.
type CheckResult struct {
	Status string `json:"status"`
	// Name says what was checked; Detail what was found (the cause, when
	// it failed); Next what to do about it.
	Name   string `json:"name"`
	Detail string `json:"detail"`
	Next   string `json:"next,omitempty"`
}

// CheckReport is the whole preflight check.
type CheckReport struct {
	Results []CheckResult `json:"results"`
	// OK is true when no check failed: collection can work.
	OK bool `json:"ok"`
}

func (r *CheckReport) add(status, name, detail, next string) {
	r.Results = append(r.Results, CheckResult{Status: status, Name: name, Detail: detail, Next: next})
}

// checkTimeout bounds each step of a check: it answers in seconds, not
// after the minutes of retries a run allows itself.
const checkTimeout = 10 * time.Second

// The application permissions collection needs ("Get started with Office
// 365 Management APIs", Specify the permissions your app requires:
// ActivityFeed.Read, and ActivityFeed.ReadDlp for DLP.All;
// "List signIns", Permissions: AuditLog.Read.All).
const (
	roleActivityFeed = "ActivityFeed.Read"
	roleActivityDlp  = "ActivityFeed.ReadDlp"
	roleAuditLog     = "AuditLog.Read.All"
)

// Check tells in seconds whether collection into dir can work with cfg:
// the endpoints reachable (DNS, TCP, TLS), a token for each API, the
// permissions in it, each content type's subscription, the Graph sign-ins
// endpoint, the archive writable. Each failure says what to do next.
//
// It changes one thing: a subscription that is not started yet is
// started, as the first collect would; Microsoft may take up to 12 hours
// to list content after that, so starting it at check time saves a day.
func Check(ctx context.Context, dir string, cfg Config) *CheckReport {
	rep := &CheckReport{}
	if err := cfg.defaults(); err != nil {
		rep.add(CheckFail, "configuration", err.Error(), "see 'outsider collect --help'")
		return rep.finish()
	}
	if cfg.Timeout > checkTimeout {
		cfg.Timeout = checkTimeout
	}
	redact := cfg.Credentials.Redact
	var st Stats
	c := &client{
		hc: cfg.HTTPClient, timeout: cfg.Timeout, sleep: cfg.Sleep, redact: redact, stats: &st,
		// One attempt: a check reports the first failure with its cause
		// instead of retrying it for minutes.
		retry: Retry{Attempts: 1, Base: time.Second, Max: time.Second, MaxRetryAfter: time.Second},
		rnd:   rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x636b)),
	}

	// 1. Every host, once.
	type endpoint struct {
		raw   string
		roles []string
	}
	var eps []*endpoint
	byHost := map[string]*endpoint{}
	addEP := func(raw, role string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		k := strings.ToLower(u.Scheme + "://" + u.Host)
		if e, ok := byHost[k]; ok {
			e.roles = append(e.roles, role)
			return
		}
		e := &endpoint{raw: raw, roles: []string{role}}
		byHost[k] = e
		eps = append(eps, e)
	}
	addEP(cfg.Cloud.LoginURL, "sign-in")
	addEP(cfg.Cloud.ManageURL, "Management API")
	if cfg.Signins {
		addEP(cfg.Cloud.GraphURL, "Graph")
	}
	unreachable := map[string]bool{}
	var serverTime time.Time
	for _, e := range eps {
		ok, date := checkHost(ctx, rep, c, e.raw, strings.Join(e.roles, ", "), cfg.lookupHost)
		if !ok {
			for _, r := range e.roles {
				unreachable[r] = true
			}
		}
		if serverTime.IsZero() {
			serverTime = date
		}
	}
	checkClock(rep, serverTime, cfg.Now())

	// 2. Tokens and their roles; 3. the APIs.
	cred := cfg.Credentials
	if cred.Cert != nil {
		checkCertificate(rep, cred, cfg.Now())
	}
	if unreachable["sign-in"] {
		rep.add(CheckSkip, "access token", "the sign-in endpoint cannot be reached", "fix the line above first")
	} else {
		manageTS := newTokenSource(c, cred, cfg.Cloud.LoginURL, cfg.Cloud.ManageResource, cfg.Now)
		need := []string{roleActivityFeed}
		for _, ct := range cfg.ContentTypes {
			if ct == "DLP.All" {
				need = append(need, roleActivityDlp)
			}
		}
		if checkToken(ctx, rep, manageTS, "Office 365 Management APIs", need, redact) {
			if unreachable["Management API"] {
				rep.add(CheckSkip, "subscriptions", "the Management API cannot be reached", "fix the reachability line above first")
			} else {
				m := newManageClient(c, manageTS, cfg.Cloud.ManageURL, cred.TenantID, cfg.PublisherID)
				checkSubscriptions(ctx, rep, m, cfg, redact)
			}
		}
		if cfg.Signins {
			graphTS := newTokenSource(c, cred, cfg.Cloud.LoginURL, cfg.Cloud.GraphResource, cfg.Now)
			if checkToken(ctx, rep, graphTS, "Microsoft Graph", []string{roleAuditLog}, redact) {
				if unreachable["Graph"] {
					rep.add(CheckSkip, "sign-ins", "Microsoft Graph cannot be reached", "fix the reachability line above first")
				} else {
					checkSignins(ctx, rep, &graphClient{c: c, auth: graphTS, base: cfg.Cloud.GraphURL}, cfg, redact)
				}
			}
		}
	}
	if !cfg.Signins {
		rep.add(CheckSkip, "sign-ins", "not collected (--no-signins)", "")
	}

	// 4. The archive.
	checkArchive(rep, dir)
	return rep.finish()
}

func (r *CheckReport) finish() *CheckReport {
	r.OK = true
	for i := range r.Results {
		if r.Results[i].Status == CheckFail {
			r.OK = false
		}
	}
	return r
}

// checkHost resolves, connects to and speaks TLS with one endpoint, and
// reports the first step that fails with its cause.
func checkHost(ctx context.Context, rep *CheckReport, c *client, raw, roles string, lookupHost func(context.Context, string) ([]string, error)) (ok bool, serverDate time.Time) {
	u, err := url.Parse(raw)
	if err != nil {
		rep.add(CheckFail, "reach "+raw, err.Error(), "fix the endpoint URL")
		return false, time.Time{}
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	name := fmt.Sprintf("reach %s (%s)", net.JoinHostPort(host, port), roles)
	firewall := fmt.Sprintf("allow outbound HTTPS from this machine to %s:%s in the firewall (where only a proxy may go out, set HTTPS_PROXY)", host, port)
	// Behind a proxy the proxy is what must be resolved and reached; the
	// request below then goes through it (CONNECT) to the host.
	via := ""
	dialHost, dialPort := host, port
	if tr, ok := c.hc.Transport.(*http.Transport); ok && tr.Proxy != nil {
		if pu, err := tr.Proxy(&http.Request{URL: u}); err == nil && pu != nil {
			via = " via proxy " + pu.Host
			dialHost, dialPort = pu.Hostname(), pu.Port()
			if dialPort == "" {
				dialPort = "80"
				if pu.Scheme == "https" {
					dialPort = "443"
				}
			}
			firewall = "check that the proxy " + pu.Host + " is up and lets this machine through (HTTPS_PROXY, NO_PROXY)"
		}
	}
	var steps []string
	if net.ParseIP(dialHost) == nil {
		dctx, cancel := context.WithTimeout(ctx, checkTimeout)
		addrs, err := lookupHost(dctx, dialHost)
		cancel()
		if err != nil {
			rep.add(CheckFail, name, "DNS: "+err.Error()+via,
				"check the host name and this machine's DNS servers (/etc/resolv.conf); where only a proxy may resolve names, set HTTPS_PROXY")
			return false, time.Time{}
		}
		steps = append(steps, fmt.Sprintf("DNS %d address(es)", len(addrs)))
	}
	d := net.Dialer{Timeout: checkTimeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(dialHost, dialPort))
	if err != nil {
		rep.add(CheckFail, name, "TCP: "+transportReason(err)+via, firewall)
		return false, time.Time{}
	}
	conn.Close()
	steps = append(steps, "TCP")
	// One request with the client collection uses (its roots, its proxy):
	// any HTTP answer proves TLS and the path; the status does not matter.
	rctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, "GET", strings.TrimRight(raw, "/")+"/", nil)
	if err != nil {
		rep.add(CheckFail, name, err.Error(), "fix the endpoint URL")
		return false, time.Time{}
	}
	req.Header.Set("User-Agent", "outsider-collect")
	resp, err := c.hc.Do(req)
	if err != nil {
		reason := transportReason(err)
		var ue *url.Error
		if errors.As(err, &ue) {
			reason = ue.Err.Error()
		}
		next := firewall
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) || strings.Contains(reason, "x509:") || strings.Contains(reason, "certificate") {
			next = "a proxy that inspects TLS presents its own certificate: give its CA certificate with --ca-file FILE (or ca_file in --config); verification stays on"
		}
		rep.add(CheckFail, name, "TLS/HTTP: "+reason+via, next)
		return false, time.Time{}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	serverDate, _ = http.ParseTime(resp.Header.Get("Date"))
	if resp.TLS != nil {
		t := tls.VersionName(resp.TLS.Version)
		if len(resp.TLS.PeerCertificates) > 0 {
			cert := resp.TLS.PeerCertificates[0]
			t += " verified (issuer " + issuerName(cert.Issuer.CommonName, cert.Issuer.Organization) + ")"
		}
		steps = append(steps, t)
	} else {
		steps = append(steps, "plain HTTP (a loopback endpoint)")
	}
	rep.add(CheckOK, name, strings.Join(steps, ", ")+via, "")
	return true, serverDate
}

// maxClockSkew is how far this machine's clock may be from the service's
// before --check warns: Entra ID refuses a certificate's sign-in assertion
// outside its validity window (AADSTS700024), and the collection's time
// windows follow this clock.
const maxClockSkew = 5 * time.Minute

// checkClock compares this machine's clock with the Date header of the
// first endpoint that answered (its resolution is a second); nothing is
// said when none did.
func checkClock(rep *CheckReport, server, now time.Time) {
	if server.IsZero() {
		return
	}
	skew := now.Sub(server)
	if skew < maxClockSkew && skew > -maxClockSkew {
		return
	}
	how := "ahead of"
	if skew < 0 {
		how, skew = "behind", -skew
	}
	rep.add(CheckWarn, "clock", fmt.Sprintf("this machine's clock is %s %s the service's", skew.Round(time.Second), how),
		"set the clock right (NTP): Entra ID refuses a certificate's sign-in outside a few minutes (AADSTS700024), and collection windows follow this clock")
}

func issuerName(cn string, org []string) string {
	if cn != "" {
		return cn
	}
	if len(org) > 0 {
		return org[0]
	}
	return "unnamed"
}

// thumbprint is the certificate's SHA-1 thumbprint as the Entra admin
// center shows it: upper-case hex, no colons.
func thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// checkCertificate reports the certificate's thumbprints (as the Entra
// admin center shows the SHA-1 one, to match it with the upload) and how
// long it stays valid.
func checkCertificate(rep *CheckReport, cred *Credentials, now time.Time) {
	c := cred.Cert
	name := "certificate " + thumbprint(c)
	left := c.NotAfter.Sub(now)
	renew := "make a new certificate (docs/live-collection.md), upload it to the app, then switch --certificate to it"
	switch {
	case left <= 0:
		rep.add(CheckFail, name, "expired on "+c.NotAfter.UTC().Format(time.DateOnly), renew)
	case now.Before(c.NotBefore):
		rep.add(CheckFail, name, "not valid before "+c.NotBefore.UTC().Format(time.RFC3339), "check this machine's clock, or wait")
	case left < 30*24*time.Hour:
		rep.add(CheckWarn, name, fmt.Sprintf("expires on %s, in %s", c.NotAfter.UTC().Format(time.DateOnly), nouns(int(left.Hours()/24), "day", "days")), renew)
	default:
		rep.add(CheckOK, name, "valid until "+c.NotAfter.UTC().Format(time.DateOnly)+" (the Entra admin center shows this thumbprint under Certificates & secrets)", "")
	}
}

// checkToken gets a token for one API and compares its roles with need.
func checkToken(ctx context.Context, rep *CheckReport, ts *tokenSource, api string, need []string, redact func(string) string) bool {
	name := "token for " + api
	tok, err := ts.Token(ctx)
	if err != nil {
		rep.add(CheckFail, name, redact(err.Error()), tokenNext(err.Error()))
		return false
	}
	rep.add(CheckOK, name, "obtained (scope "+ts.scope+")", "")
	roles, err := tokenRoles(tok)
	rname := "permissions for " + api
	if err != nil {
		// Microsoft says clients must treat access tokens as opaque; a
		// token that is not a readable JWT is no failure, the API calls
		// below show whether the permissions suffice.
		rep.add(CheckWarn, rname, "cannot read the token's roles ("+err.Error()+"); the calls below will tell", "")
		return true
	}
	var missing []string
	for _, n := range need {
		found := false
		for _, r := range roles {
			if strings.EqualFold(r, n) {
				found = true
			}
		}
		if !found {
			missing = append(missing, n)
		}
	}
	have := strings.Join(roles, ", ")
	if have == "" {
		have = "none"
	}
	if len(missing) > 0 {
		rep.add(CheckFail, rname, fmt.Sprintf("the token has roles %s; missing %s", have, strings.Join(missing, ", ")),
			fmt.Sprintf("Entra admin center > App registrations > this app > API permissions > Add a permission > %s > Application permissions > %s; then Grant admin consent (see docs/live-collection.md)",
				api, strings.Join(missing, ", ")))
		return false
	}
	rep.add(CheckOK, rname, "roles "+have, "")
	return true
}

// tokenRoles reads the roles claim of an access token: the JWT's middle
// part, base64url JSON. The signature is not checked, and need not be:
// this is a diagnosis of what Entra ID granted, shown to the person who
// runs the check, never a decision to trust anything; the API that
// receives the token checks it.
func tokenRoles(tok string) ([]string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errors.New("its payload is not base64url")
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, errors.New("its payload is not JSON")
	}
	return claims.Roles, nil
}

// tokenNext says what to do about a refused token request, from Entra
// ID's AADSTS code ("Microsoft Entra authentication and authorization
// error codes", https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
func tokenNext(msg string) string {
	switch {
	case strings.Contains(msg, "AADSTS7000215"), strings.Contains(msg, "AADSTS7000222"):
		return "the client secret is wrong or expired: make a new one (Entra admin center > App registrations > this app > Certificates & secrets) and put its Value, not its Secret ID, in the secret file"
	case strings.Contains(msg, "AADSTS700027"), strings.Contains(msg, "AADSTS700023"):
		return "the app does not know this certificate: upload the certificate (public part only) under Certificates & secrets > Certificates, or give the matching --certificate (certificate_file in --config)"
	case strings.Contains(msg, "AADSTS700024"):
		return "this machine's clock is off: set it right (NTP)"
	case strings.Contains(msg, "AADSTS700016"):
		return "no app with this client id in this tenant: check --client-id (client_id in --config) against the Application (client) ID and --tenant-id (tenant_id) against the Directory (tenant) ID on the app's Overview page"
	case strings.Contains(msg, "AADSTS90002"), strings.Contains(msg, "AADSTS900023"):
		return "no such tenant: check --tenant-id (tenant_id in --config) against the Directory (tenant) ID on the app's Overview page, and --cloud (cloud)"
	case strings.Contains(msg, "AADSTS500011"):
		return "the API is not known in this tenant: check --cloud; the tenant may need a Microsoft 365 subscription"
	case strings.Contains(msg, "AADSTS7000112"), strings.Contains(msg, "AADSTS700025"):
		return "the app or its service principal is disabled: enable it in Entra admin center > Enterprise applications"
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "dial tcp"), strings.Contains(msg, "no such host"):
		return "the sign-in endpoint cannot be reached: see the reachability lines"
	}
	return "see docs/live-collection.md, Troubleshooting"
}

// checkSubscriptions reports each content type's subscription, starting
// those not started yet.
func checkSubscriptions(ctx context.Context, rep *CheckReport, m *manageClient, cfg Config, redact func(string) string) {
	subs, err := m.subscriptions(ctx)
	if err != nil {
		rep.add(CheckFail, "subscriptions", redact(err.Error()), manageNext(err.Error()))
		return
	}
	status := map[string]string{}
	for _, s := range subs {
		status[s.ContentType] = strings.ToLower(s.Status)
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	for _, ct := range cfg.ContentTypes {
		name := "subscription " + ct
		st, known := status[ct]
		if st != "enabled" {
			if err := m.start(ctx, ct); err != nil {
				was := "not started"
				if known {
					was = st
				}
				rep.add(CheckFail, name, was+"; starting it failed: "+redact(err.Error()), manageNext(err.Error()))
				continue
			}
			was := "was not started"
			if known {
				was = "was " + st
			}
			rep.add(CheckWarn, name, was+"; started now: Microsoft may take up to 12 hours before content is listed, so a first collect may archive nothing", "")
			continue
		}
		// One page of the last 24 hours says whether content flows.
		q := url.Values{}
		q.Set("contentType", ct)
		q.Set("startTime", now.Add(-MaxWindow).Format(apiTime))
		q.Set("endTime", now.Format(apiTime))
		resp, err := m.get(ctx, m.root+"/subscriptions/content?"+q.Encode(), "listing "+ct+" content of the last 24 hours")
		if err == nil && resp.status != 200 {
			err = fmt.Errorf("listing %s content: %w", ct, apiError(resp))
		}
		if err != nil {
			rep.add(CheckFail, name, "enabled, but listing failed: "+redact(err.Error()), manageNext(err.Error()))
			continue
		}
		var items []contentItem
		_ = json.Unmarshal(resp.body, &items)
		more := ""
		if resp.header.Get("NextPageUri") != "" {
			more = " or more"
		}
		if len(items) == 0 {
			rep.add(CheckWarn, name, "enabled; nothing listed in the last 24 hours",
				"a subscription started in the last 12 hours lists nothing yet; if it is older, check that unified auditing is on (Exchange Online PowerShell: Get-AdminAuditLogConfig | Format-List UnifiedAuditLogIngestionEnabled)")
			continue
		}
		rep.add(CheckOK, name, fmt.Sprintf("enabled; %d%s content %s listed in the last 24 hours", len(items), more, pick(len(items) == 1 && more == "", "blob", "blobs")), "")
	}
}

// manageNext says what to do about a Management API error, from its AF
// code ("Office 365 Management Activity API reference", Errors).
func manageNext(msg string) string {
	switch {
	case strings.Contains(msg, "AF20023"):
		return "the subscription was disabled, usually because unified auditing is off: check with Get-AdminAuditLogConfig | Format-List UnifiedAuditLogIngestionEnabled and turn it on (Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true, or Microsoft Purview portal > Audit > Start recording); it can take hours to apply"
	case strings.Contains(msg, "AF10001"):
		return "the token lacks ActivityFeed.Read: add it as an Application permission of Office 365 Management APIs and grant admin consent"
	case strings.Contains(msg, "AF20010"), strings.Contains(msg, "AF20011"), strings.Contains(msg, "AF20012"):
		return "the tenant id does not match: check --tenant-id and --cloud (GCC, GCC High and DoD tenants have their own Management API host)"
	case strings.Contains(msg, "AF429"), strings.Contains(msg, "429"):
		return "throttled: wait a few minutes; give --publisher-id to use a quota of your own"
	}
	return "see docs/live-collection.md, Troubleshooting"
}

// runNext is the next step for a run's error, from the codes Entra ID,
// the Management API and Graph answer with; "" when the error names none
// (a network failure says its own cause).
func runNext(msg string) string {
	switch {
	case strings.Contains(msg, "AADSTS"):
		return tokenNext(msg)
	case strings.Contains(msg, "NonPremiumTenant"):
		return signinsPremiumNext
	case strings.Contains(msg, "Authorization_RequestDenied"):
		return signinsRoleNext
	case strings.Contains(msg, "proxyconnect"):
		// Go names a failure to reach the proxy itself so.
		return "the proxy in HTTPS_PROXY cannot be reached or refused the connection: check that it is up and its address, or unset HTTPS_PROXY where this machine may go out directly (NO_PROXY for exceptions)"
	case strings.Contains(msg, "AF20023"), strings.Contains(msg, "AF10001"), strings.Contains(msg, "AF20010"),
		strings.Contains(msg, "AF20011"), strings.Contains(msg, "AF20012"):
		return manageNext(msg)
	case strings.Contains(msg, "no space left on device"), strings.Contains(msg, "disk is full"):
		// ENOSPC from the archive's files, SQLITE_FULL from its state.
		return diskFullNext
	}
	return ""
}

// diskFullNext is the next step when the archive's disk is full: --check
// found the folder writable, but not how much room is left.
const diskFullNext = "the disk holding the archive (its files or its .outsider state) is full: free space on it, or move the archive to a larger disk and point --archive there, then run again"

// The next steps for Graph's refusals of the sign-ins.
const (
	signinsPremiumNext = "reading sign-in logs through Graph needs a Microsoft Entra ID P1 or P2 licence in the tenant; without one run with --no-signins (the audit log still has the sign-ins as UserLoggedIn records)"
	signinsRoleNext    = "add AuditLog.Read.All as an Application permission of Microsoft Graph and grant admin consent; or, to collect the audit log alone for now, run with --no-signins (the audit log has the sign-ins as UserLoggedIn records)"
)

// checkSignins asks Graph for one sign-in of the last hour.
func checkSignins(ctx context.Context, rep *CheckReport, g *graphClient, cfg Config, redact func(string) string) {
	end := cfg.Now().UTC().Truncate(time.Second)
	filter := fmt.Sprintf("createdDateTime ge %s and createdDateTime le %s",
		end.Add(-time.Hour).Format(time.RFC3339), end.Add(-100*time.Nanosecond).Format(graphTick))
	u := g.base + "/v1.0/auditLogs/signIns?$filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20") + "&$top=1"
	resp, err := g.c.do(ctx, &request{method: "GET", url: u, name: "listing sign-ins", auth: g.auth,
		header: map[string]string{"Prefer": "include-unknown-enum-members", "Accept": "application/json"}})
	if err == nil && resp.status != 200 {
		e := apiError(resp)
		next := "see docs/live-collection.md, Troubleshooting"
		switch {
		case strings.Contains(e.Code, "NonPremiumTenant"):
			next = signinsPremiumNext
		case e.Code == "Authorization_RequestDenied":
			next = signinsRoleNext
		}
		rep.add(CheckFail, "sign-ins", "Graph answered "+redact(e.Error()), next)
		return
	}
	if err != nil {
		rep.add(CheckFail, "sign-ins", redact(err.Error()), "see the reachability lines")
		return
	}
	var p graphPage
	if err := json.Unmarshal(resp.body, &p); err != nil {
		rep.add(CheckFail, "sign-ins", "unreadable answer from Graph: "+err.Error(), "check that --graph-endpoint is Microsoft Graph")
		return
	}
	rep.add(CheckOK, "sign-ins", fmt.Sprintf("Graph answers (%s on the first page of the last hour)", nouns(len(p.Value), "sign-in", "sign-ins")), "")
}

// checkArchive creates the archive folder if needed, writes, syncs and
// removes a file in it, and says whether another run holds it.
func checkArchive(rep *CheckReport, dir string) {
	name := "archive " + dir
	next := "give --archive a folder this user may write to (or fix its permissions)"
	if err := os.MkdirAll(filepath.Join(dir, DirState), 0o700); err != nil {
		rep.add(CheckFail, name, err.Error(), next)
		return
	}
	// A hidden name: triage skips it and the sweep of a later run removes
	// it if this process dies before it does.
	f, err := os.CreateTemp(dir, ".outsider-check-*.tmp")
	if err != nil {
		rep.add(CheckFail, name, "not writable: "+err.Error(), next)
		return
	}
	_, werr := f.Write([]byte("outsider collect --check\n"))
	serr := f.Sync()
	cerr := f.Close()
	os.Remove(f.Name())
	if err := errors.Join(werr, serr, cerr); err != nil {
		rep.add(CheckFail, name, "not writable: "+err.Error(), next)
		return
	}
	unlock, err := lockArchive(filepath.Join(dir, DirState, "lock"))
	if err != nil {
		if errors.Is(err, ErrLocked) {
			rep.add(CheckWarn, name, "writable; another outsider collect or watch is using it now", "a second run waits for none: stop the other one first, or see it with 'outsider status'")
			return
		}
		rep.add(CheckFail, name, err.Error(), next)
		return
	}
	unlock()
	if free, ok := freeBytes(dir); ok && free < minFreeBytes {
		rep.add(CheckWarn, name, fmt.Sprintf("writable, but only %d MB free on its disk", free>>20),
			"a busy tenant's day of audit and sign-in logs can take more: free space there, or move the archive to a larger disk and point --archive there")
		return
	}
	rep.add(CheckOK, name, "writable", "")
}

// minFreeBytes is the room below which --check warns that the archive's
// disk may fill (collect then fails with "no space left on device"). A
// variable, so that tests can raise it.
var minFreeBytes uint64 = 1 << 30

// WriteCheck prints a report: a line per check and, under each failure
// or warning, the next step.
func WriteCheck(w io.Writer, r *CheckReport) {
	said := map[string]bool{}
	for _, c := range r.Results {
		fmt.Fprintf(w, "%-4s  %s: %s\n", c.Status, c.Name, c.Detail)
		switch {
		case c.Next == "":
		case said[c.Next]:
			// Four content types refused for one cause: one next step.
			fmt.Fprintln(w, "      next: as above")
		default:
			said[c.Next] = true
			fmt.Fprintf(w, "      next: %s\n", c.Next)
		}
	}
}

// Failed counts the checks that failed.
func (r *CheckReport) Failed() int {
	n := 0
	for _, c := range r.Results {
		if c.Status == CheckFail {
			n++
		}
	}
	return n
}

// nouns is n with the noun in the right number: "1 day", "2 days".
func nouns(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// pick is one of two words.
func pick(first bool, a, b string) string {
	if first {
		return a
	}
	return b
}
