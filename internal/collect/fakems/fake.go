// Package fakems is an in-process fake of the three Microsoft services
// 'outsider collect' talks to, written from Microsoft's documented
// contracts so that collection can be tested with no network:
//
//   - the Microsoft identity platform token endpoint (POST
//     /{tenant}/oauth2/v2.0/token, client credentials with a client
//     secret or a certificate client assertion, which it verifies: PS256
//     with x5t#S256 or RS256 with x5t, the signature, aud, iss, sub, jti
//     replay, nbf, exp);
//   - the Office 365 Management Activity API ("Office 365 Management
//     Activity API reference"): subscriptions/list and /start, content
//     listing with the 24-hour and 7-day window rules (AF20030, AF20055),
//     NextPageUri paging, content blobs (AF20050, AF20051), the
//     PublisherIdentifier parameter;
//   - Microsoft Graph GET /v1.0/auditLogs/signIns ($filter on
//     createdDateTime, $top, @odata.nextLink, and crossTenantAccessType
//     "passthrough" only with Prefer: include-unknown-enum-members).
//
// Faults are injected by request count (so a retried request is not hit
// twice): 429 with Retry-After, AF429 as HTTP 403, 5xx (AF50000), slow
// answers, bodies cut short; content can be expired or malformed, and
// records repeated across blobs. Every request is recorded for
// assertions. Login, Management API and Graph are served from one
// server: point all three endpoints at its URL.
package fakems

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Blob is one content blob.
type Blob struct {
	ContentType string
	ContentID   string
	Created     time.Time
	// Records are the blob's records (JSON objects).
	Records [][]byte
	// Expired answers AF20051 to a fetch; Malformed answers a body that is
	// not a JSON array.
	Expired   bool
	Malformed bool
}

// SignIn is one Graph signIn object.
type SignIn struct {
	Created time.Time
	JSON    []byte
}

// Faults inject failures into Management API and Graph requests (not the
// token endpoint) by request number: with ThrottleEvery 5, requests 5, 10,
// 15... are throttled. 0 disables a fault.
type Faults struct {
	// Throttle429Every answers 429 with Retry-After: RetryAfter.
	Throttle429Every int
	RetryAfter       string
	// AF429Every answers the Management API's throttling: HTTP 403 with
	// AF429 in the body.
	AF429Every int
	// ServerErrorEvery answers 500 AF50000 (Management API) or 503 (Graph).
	ServerErrorEvery int
	// SlowEvery waits SlowFor before answering.
	SlowEvery int
	SlowFor   time.Duration
	// TruncateEvery sends a blob or page body cut in half under a
	// Content-Length for the whole, then drops the connection.
	TruncateEvery int
}

// Request is one recorded request.
type Request struct {
	Method    string
	Path      string
	Query     url.Values
	Publisher bool // PublisherIdentifier was sent
	Prefer    string
	Status    int
}

// Server is the fake. Set its fields before serving; use the methods to
// change data while serving.
type Server struct {
	Tenant   string
	ClientID string
	// Secret is the accepted client secret ("" accepts none).
	Secret string
	// Cert is the accepted certificate (nil accepts none).
	Cert *x509.Certificate
	// LegacyAssertionsOnly refuses PS256 client assertions, taking only
	// the RS256/x5t form (an endpoint not updated yet).
	LegacyAssertionsOnly bool
	// ManageResource and GraphResource are the accepted scopes' resources.
	ManageResource string
	GraphResource  string
	// TokenLifetime of issued tokens (default 1 hour). StatedLifetime is
	// the expires_in sent (default TokenLifetime): longer, it mimics a
	// token revoked or expired early.
	TokenLifetime  time.Duration
	StatedLifetime time.Duration
	// Now is the service's clock (default time.Now).
	Now func() time.Time
	// PageSize and GraphPageSize bound listing pages (defaults 5 and 50).
	PageSize      int
	GraphPageSize int
	Faults        Faults
	// GraphForbidden answers every sign-in request as Graph does for a
	// tenant without Entra ID P1/P2.
	GraphForbidden bool
	// Roles are the application permissions (the access token's roles
	// claim) granted per resource; nil grants the defaults: ActivityFeed.Read
	// and ActivityFeed.ReadDlp for the Management API, AuditLog.Read.All for
	// Graph. A request without the role it needs is refused as the service
	// refuses it.
	Roles map[string][]string
	// AuditingDisabled mimics a tenant whose unified audit log ingestion is
	// off: subscriptions list as disabled and starting or listing one
	// answers AF20023 ("The subscription was disabled by {0}", reference,
	// Errors).
	AuditingDisabled bool
	// OnRequest, if set, is called with the number of every Management
	// API or Graph request as it arrives (tests cancel runs from it).
	OnRequest func(n int)

	mu       sync.Mutex
	blobs    []*Blob
	byID     map[string]*Blob
	signins  []SignIn
	subs     map[string]bool
	tokens   map[string]token
	jtis     map[string]bool
	n        int
	requests []Request
	issued   []string
}

type token struct {
	resource string
	exp      time.Time
	roles    []string
}

// roles returns the roles granted for resource.
func (s *Server) roles(resource string) []string {
	if s.Roles != nil {
		return s.Roles[resource]
	}
	if resource == s.GraphResource {
		return []string{"AuditLog.Read.All"}
	}
	return []string{"ActivityFeed.Read", "ActivityFeed.ReadDlp"}
}

func hasRole(roles []string, want string) bool {
	for _, r := range roles {
		if r == want {
			return true
		}
	}
	return false
}

// ContentTypes the fake accepts.
var ContentTypes = []string{"Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All"}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// AddBlobs adds content blobs.
func (s *Server) AddBlobs(bs ...*Blob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*Blob{}
	}
	for _, b := range bs {
		s.blobs = append(s.blobs, b)
		s.byID[b.ContentID] = b
	}
	sort.SliceStable(s.blobs, func(i, j int) bool { return s.blobs[i].Created.Before(s.blobs[j].Created) })
}

// AddSignIns adds Graph sign-ins.
func (s *Server) AddSignIns(ss ...SignIn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signins = append(s.signins, ss...)
}

// Subscribe pre-enables a subscription.
func (s *Server) Subscribe(ct string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[string]bool{}
	}
	s.subs[ct] = true
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// IssuedTokens returns every access token issued.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The Date header from the service's clock, as Microsoft's endpoints
	// send theirs: --check compares it with the caller's.
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	rec := &recorder{ResponseWriter: w, status: 200}
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Prefer: r.Header.Get("Prefer")}
	for k := range req.Query {
		if strings.EqualFold(k, "PublisherIdentifier") {
			req.Publisher = true
		}
	}
	defer func() {
		req.Status = rec.status
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
	}()
	p := r.URL.Path
	if strings.HasSuffix(p, "/oauth2/v2.0/token") {
		s.token(rec, r)
		return
	}
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	if s.OnRequest != nil {
		s.OnRequest(n)
	}
	graph := strings.HasPrefix(p, "/v1.0/")
	if s.fault(rec, r, n, graph) {
		return
	}
	resource := s.ManageResource
	if graph {
		resource = s.GraphResource
	}
	tok, ok := s.authorized(rec, r, resource, graph)
	if !ok {
		return
	}
	// Without the permission the service refuses the call: the Management
	// API with AF10001 naming the permission set, Graph with
	// Authorization_RequestDenied.
	if graph && !hasRole(tok.roles, "AuditLog.Read.All") {
		writeErr(rec, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	if !graph && !hasRole(tok.roles, "ActivityFeed.Read") {
		writeErr(rec, 401, "AF10001", "The permission set ("+strings.Join(tok.roles, ",")+") sent in the request does not include the expected permission.")
		return
	}
	truncate := s.Faults.TruncateEvery > 0 && n%s.Faults.TruncateEvery == 0
	switch {
	case graph && p == "/v1.0/auditLogs/signIns" && s.GraphForbidden:
		writeErr(rec, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license")
	case graph && p == "/v1.0/auditLogs/signIns":
		s.signIns(rec, r, truncate)
	case strings.HasPrefix(p, "/api/v1.0/"+s.Tenant+"/activity/feed/"):
		s.manage(rec, r, strings.TrimPrefix(p, "/api/v1.0/"+s.Tenant+"/activity/feed/"), truncate)
	case strings.HasPrefix(p, "/api/v1.0/"):
		// AF20010: the tenant in the URL is not the token's.
		writeErr(rec, 401, "AF20010", "The tenant ID passed in the URL does not match the tenant ID passed in the access token.")
	default:
		http.NotFound(rec, r)
	}
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	w.Write(b)
}

// fault injects the configured failures; true means it answered.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, n int, graph bool) bool {
	f := s.Faults
	if f.SlowEvery > 0 && n%f.SlowEvery == 0 {
		select {
		case <-time.After(f.SlowFor):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case f.Throttle429Every > 0 && n%f.Throttle429Every == 0:
		w.Header().Set("Retry-After", f.RetryAfter)
		writeErr(w, 429, "TooManyRequests", "Too many requests.")
		return true
	case f.AF429Every > 0 && n%f.AF429Every == 0 && !graph:
		// As the troubleshooting guide shows it: 403 with AF429.
		writeErr(w, 403, "AF429", "Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000")
		return true
	case f.ServerErrorEvery > 0 && n%f.ServerErrorEvery == 0:
		if graph {
			writeErr(w, 503, "serviceNotAvailable", "The service is temporarily unavailable.")
		} else {
			writeErr(w, 500, "AF50000", "An internal error occurred. Retry the request.")
		}
		return true
	}
	return false
}

// authorized checks the bearer token: known, for this resource, not
// expired.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, resource string, graph bool) (token, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	t, known := s.tokens[tok]
	s.mu.Unlock()
	code := "AF10001"
	if graph {
		code = "InvalidAuthenticationToken"
	}
	switch {
	case !ok || !known:
		writeErr(w, 401, code, "Access token is missing or invalid.")
	case t.resource != resource:
		writeErr(w, 401, code, "Access token has the wrong audience.")
	case !s.now().Before(t.exp):
		writeErr(w, 401, code, "Access token has expired.")
	default:
		return t, true
	}
	return token{}, false
}

// token is the client credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc + "\r\nTrace ID: 0\r\nCorrelation ID: 0"})
		w.Write(b)
	}
	if r.Method != "POST" || r.ParseForm() != nil {
		fail(400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/"+s.Tenant+"/") {
		fail(400, "invalid_request", "AADSTS90002: Tenant not found.")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		fail(400, "unsupported_grant_type", "AADSTS70003: unsupported grant type")
		return
	}
	if f.Get("client_id") != s.ClientID {
		fail(400, "unauthorized_client", "AADSTS700016: Application not found in the directory.")
		return
	}
	var resource string
	switch f.Get("scope") {
	case s.ManageResource + "/.default":
		resource = s.ManageResource
	case s.GraphResource + "/.default":
		resource = s.GraphResource
	default:
		fail(400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	aud := scheme + "://" + r.Host + r.URL.Path
	switch {
	case f.Has("client_assertion"):
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			fail(400, "invalid_request", "AADSTS50027: invalid client_assertion_type")
			return
		}
		if err := s.checkAssertion(f.Get("client_assertion"), aud); err != nil {
			var te timeRangeError
			if errors.As(err, &te) {
				fail(401, "invalid_client", "AADSTS700024: Client assertion is not within its valid time range. "+te.Error())
				return
			}
			fail(401, "invalid_client", "AADSTS700027: Client assertion failed signature validation: "+err.Error())
			return
		}
	case f.Has("client_secret"):
		if s.Secret == "" || f.Get("client_secret") != s.Secret {
			fail(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
	default:
		fail(401, "invalid_client", "AADSTS7000218: The request body must contain client_assertion or client_secret.")
		return
	}
	life := s.TokenLifetime
	if life <= 0 {
		life = time.Hour
	}
	// A JWT-shaped access token as Entra ID issues for an application:
	// aud, tid, roles, exp ("Access token claims reference",
	// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
	// The signature is random bytes: clients must not verify it, the fake
	// knows its tokens by value.
	var raw [24]byte
	rand.Read(raw[:])
	roles := s.roles(resource)
	hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256"})
	claims, _ := json.Marshal(map[string]any{"aud": resource, "tid": s.Tenant, "appid": s.ClientID, "roles": roles, "exp": s.now().Add(life).Unix()})
	tok := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + base64.RawURLEncoding.EncodeToString(raw[:])
	s.mu.Lock()
	if s.tokens == nil {
		s.tokens = map[string]token{}
	}
	s.tokens[tok] = token{resource: resource, exp: s.now().Add(life), roles: roles}
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	stated := s.StatedLifetime
	if stated <= 0 {
		stated = life
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": int(stated / time.Second), "ext_expires_in": int(stated / time.Second), "access_token": tok})
}

// checkAssertion verifies a client assertion as Entra ID does.
func (s *Server) checkAssertion(jwt, aud string) error {
	if s.Cert == nil {
		return fmt.Errorf("no certificate registered")
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWS")
	}
	var hdr struct {
		Alg     string `json:"alg"`
		Typ     string `json:"typ"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var claims struct {
		Aud string `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Jti string `json:"jti"`
		Nbf int64  `json:"nbf"`
		Exp int64  `json:"exp"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return fmt.Errorf("undecodable JWT")
	}
	// Both forms Entra ID takes: PS256 with the SHA-256 thumbprint
	// x5t#S256, as "certificate credentials" documents it today, and
	// RS256 with the SHA-1 x5t of its earlier version.
	pub := s.Cert.PublicKey.(*rsa.PublicKey)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sha1Thumb, sha256Thumb := sha1.Sum(s.Cert.Raw), sha256.Sum256(s.Cert.Raw)
	switch {
	case hdr.Typ != "JWT":
		return fmt.Errorf("typ %q is not JWT", hdr.Typ)
	case hdr.Alg == "PS256" && !s.LegacyAssertionsOnly:
		if hdr.X5tS256 != base64.RawURLEncoding.EncodeToString(sha256Thumb[:]) {
			return fmt.Errorf("x5t#S256 does not match the registered certificate")
		}
		if err := rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
			return fmt.Errorf("bad signature")
		}
	case hdr.Alg == "RS256":
		if hdr.X5t != base64.RawURLEncoding.EncodeToString(sha1Thumb[:]) {
			return fmt.Errorf("x5t does not match the registered certificate")
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			return fmt.Errorf("bad signature")
		}
	default:
		return fmt.Errorf("alg %q is not supported", hdr.Alg)
	}
	now := s.now().Unix()
	switch {
	case claims.Aud != aud:
		return fmt.Errorf("aud %q is not %q", claims.Aud, aud)
	case claims.Iss != s.ClientID || claims.Sub != s.ClientID:
		return fmt.Errorf("iss and sub must be the client id")
	case claims.Jti == "":
		return fmt.Errorf("no jti")
	case claims.Nbf > now+300, claims.Exp <= now:
		return timeRangeError{now: now, nbf: claims.Nbf, exp: claims.Exp}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jtis == nil {
		s.jtis = map[string]bool{}
	}
	if s.jtis[claims.Jti] {
		return fmt.Errorf("jti replayed")
	}
	s.jtis[claims.Jti] = true
	return nil
}

// timeRangeError is an assertion refused for its times, not its
// signature: Entra ID answers it with AADSTS700024 ("Client assertion is
// not within its valid time range", "Microsoft Entra authentication and
// authorization error codes",
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes),
// the code a client whose clock is off gets.
type timeRangeError struct{ now, nbf, exp int64 }

func (e timeRangeError) Error() string {
	f := func(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05Z") }
	return "Current time: " + f(e.now) + ", assertion valid from " + f(e.nbf) + ", expiry time of assertion " + f(e.exp) + "."
}

// parseAPITime reads the documented forms YYYY-MM-DD, YYYY-MM-DDTHH:MM and
// YYYY-MM-DDTHH:MM:SS (UTC).
func parseAPITime(v string) (time.Time, bool) {
	for _, l := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", time.RFC3339} {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func validContentType(ct string) bool {
	for _, c := range ContentTypes {
		if c == ct {
			return true
		}
	}
	return false
}

const windowMsg = "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past."

func (s *Server) manage(w http.ResponseWriter, r *http.Request, op string, truncate bool) {
	q := r.URL.Query()
	switch {
	case op == "subscriptions/list" && r.Method == "GET":
		s.mu.Lock()
		var out []map[string]any
		status := "enabled"
		if s.AuditingDisabled {
			status = "disabled"
		}
		for _, ct := range ContentTypes {
			if s.subs[ct] {
				out = append(out, map[string]any{"contentType": ct, "status": status, "webhook": nil})
			}
		}
		s.mu.Unlock()
		writeJSON(w, out, false)
	case op == "subscriptions/start" && r.Method == "POST":
		ct := q.Get("contentType")
		if !validContentType(ct) {
			writeErr(w, 400, "AF20020", "The specified content type is not valid.")
			return
		}
		if s.AuditingDisabled {
			writeErr(w, 400, "AF20023", "The subscription was disabled by tenant admin.")
			return
		}
		s.Subscribe(ct)
		writeJSON(w, map[string]any{"contentType": ct, "status": "enabled", "webhook": nil}, false)
	case op == "subscriptions/content" && r.Method == "GET":
		s.listContent(w, r, truncate)
	case strings.HasPrefix(op, "audit/") && r.Method == "GET":
		s.fetchBlob(w, strings.TrimPrefix(op, "audit/"), truncate)
	default:
		writeErr(w, 404, "AF20001", "Missing parameter: operation.")
	}
}

func (s *Server) listContent(w http.ResponseWriter, r *http.Request, truncate bool) {
	q := r.URL.Query()
	ct := q.Get("contentType")
	if !validContentType(ct) {
		writeErr(w, 400, "AF20020", "The specified content type is not valid.")
		return
	}
	s.mu.Lock()
	subscribed := s.subs[ct]
	s.mu.Unlock()
	if !subscribed {
		writeErr(w, 400, "AF20022", "No subscription found for the specified content type.")
		return
	}
	if s.AuditingDisabled {
		writeErr(w, 400, "AF20023", "The subscription was disabled by tenant admin.")
		return
	}
	now := s.now().UTC()
	st, et := q.Get("startTime"), q.Get("endTime")
	var start, end time.Time
	switch {
	case st == "" && et == "":
		start, end = now.Add(-24*time.Hour), now
	case st == "" || et == "":
		writeErr(w, 400, "AF20030", windowMsg)
		return
	default:
		var ok1, ok2 bool
		start, ok1 = parseAPITime(st)
		end, ok2 = parseAPITime(et)
		if !ok1 || !ok2 {
			writeErr(w, 400, "AF20002", "Invalid parameter type: startTime. Expected type: datetime")
			return
		}
		if !end.After(start) || end.Sub(start) > 24*time.Hour {
			writeErr(w, 400, "AF20030", windowMsg)
			return
		}
		if start.Before(now.Add(-7 * 24 * time.Hour)) {
			writeErr(w, 400, "AF20055", windowMsg)
			return
		}
	}
	var items []*Blob
	s.mu.Lock()
	for _, b := range s.blobs {
		// startTime <= contentCreated < endTime, and only content that
		// is available by now.
		if b.ContentType == ct && !b.Created.Before(start) && b.Created.Before(end) && !b.Created.After(now) {
			items = append(items, b)
		}
	}
	s.mu.Unlock()
	offset := 0
	if np := q.Get("nextPage"); np != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(np, "page"))
		if err != nil || v < 0 || v > len(items) {
			writeErr(w, 400, "AF20031", "Invalid nextPage Input: "+np+".")
			return
		}
		offset = v
	}
	size := s.PageSize
	if size <= 0 {
		size = 5
	}
	endIdx := min(offset+size, len(items))
	base := scheme(r) + "://" + r.Host + "/api/v1.0/" + s.Tenant + "/activity/feed"
	out := make([]map[string]string, 0, endIdx-offset)
	for _, b := range items[offset:endIdx] {
		out = append(out, map[string]string{
			"contentType":       b.ContentType,
			"contentId":         b.ContentID,
			"contentUri":        base + "/audit/" + b.ContentID,
			"contentCreated":    b.Created.UTC().Format("2006-01-02T15:04:05.000Z"),
			"contentExpiration": b.Created.Add(7 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
		})
	}
	if endIdx < len(items) {
		// Same startTime and endTime, plus the next page's id; the
		// documented sample has no PublisherIdentifier in it.
		nq := url.Values{}
		nq.Set("contentType", ct)
		nq.Set("startTime", start.Format("2006-01-02T15:04:05"))
		nq.Set("endTime", end.Format("2006-01-02T15:04:05"))
		nq.Set("nextPage", "page"+strconv.Itoa(endIdx))
		w.Header().Set("NextPageUri", base+"/subscriptions/content?"+nq.Encode())
	}
	writeJSON(w, out, truncate)
}

func (s *Server) fetchBlob(w http.ResponseWriter, id string, truncate bool) {
	s.mu.Lock()
	b := s.byID[id]
	s.mu.Unlock()
	now := s.now()
	switch {
	case b == nil || b.Created.After(now):
		writeErr(w, 400, "AF20050", "The specified content ("+id+") does not exist.")
	case b.Expired || now.After(b.Created.Add(7*24*time.Hour)):
		writeErr(w, 400, "AF20051", "Content requested with the key "+id+" has already expired. Content older than 7 days cannot be retrieved.")
	case b.Malformed:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(`[{"CreationTime":"2026-10-01T00:00:00","Id":"broken",`))
	default:
		var buf bytes.Buffer
		buf.WriteByte('[')
		for i, rec := range b.Records {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(rec)
		}
		buf.WriteByte(']')
		writeBody(w, buf.Bytes(), truncate)
	}
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func writeJSON(w http.ResponseWriter, v any, truncate bool) {
	b, _ := json.Marshal(v)
	writeBody(w, b, truncate)
}

// writeBody sends b, or with truncate only its first half under a
// Content-Length for all of it: the server then drops the connection and
// the client sees the body end early.
func writeBody(w http.ResponseWriter, b []byte, truncate bool) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if truncate && len(b) > 1 {
		w.WriteHeader(200)
		w.Write(b[:len(b)/2])
		if f, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
			w = f.Unwrap()
		}
		if h, ok := w.(http.Hijacker); ok {
			if conn, _, err := h.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	w.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// signIns serves GET /v1.0/auditLogs/signIns.
func (s *Server) signIns(w http.ResponseWriter, r *http.Request, truncate bool) {
	q := r.URL.Query()
	filter := q.Get("$filter")
	var start, end time.Time
	if filter != "" {
		// createdDateTime ge X and createdDateTime le Y: "List signIns"
		// documents ge, le and eq on createdDateTime, so the fake takes
		// only those (le: Y itself is in).
		var a, b string
		if _, err := fmt.Sscanf(filter, "createdDateTime ge %s and createdDateTime le %s", &a, &b); err != nil {
			writeErr(w, 400, "BadRequest", "Invalid filter clause")
			return
		}
		var err1, err2 error
		start, err1 = time.Parse(time.RFC3339Nano, a)
		end, err2 = time.Parse(time.RFC3339Nano, b)
		if err1 != nil || err2 != nil {
			writeErr(w, 400, "BadRequest", "Invalid filter clause")
			return
		}
	}
	top := s.GraphPageSize
	if top <= 0 {
		top = 50
	}
	if v, err := strconv.Atoi(q.Get("$top")); err == nil && v > 0 && v < top {
		top = v
	}
	now := s.now()
	var match []SignIn
	s.mu.Lock()
	for _, si := range s.signins {
		if si.Created.After(now) {
			continue
		}
		if filter != "" && (si.Created.Before(start) || si.Created.After(end)) {
			continue
		}
		match = append(match, si)
	}
	s.mu.Unlock()
	// Newest first, as Graph lists sign-ins by default.
	sort.SliceStable(match, func(i, j int) bool { return match[i].Created.After(match[j].Created) })
	offset, _ := strconv.Atoi(q.Get("$skiptoken"))
	if offset < 0 || offset > len(match) {
		writeErr(w, 400, "BadRequest", "Invalid skip token")
		return
	}
	endIdx := min(offset+top, len(match))
	prefer := strings.Contains(r.Header.Get("Prefer"), "include-unknown-enum-members")
	vals := make([]json.RawMessage, 0, endIdx-offset)
	for _, si := range match[offset:endIdx] {
		js := si.JSON
		if !prefer {
			js = bytes.ReplaceAll(js, []byte(`"crossTenantAccessType":"passthrough"`), []byte(`"crossTenantAccessType":"unknownFutureValue"`))
		}
		vals = append(vals, js)
	}
	page := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns", "value": vals}
	if endIdx < len(match) {
		nq := url.Values{}
		if filter != "" {
			nq.Set("$filter", filter)
		}
		nq.Set("$top", strconv.Itoa(top))
		nq.Set("$skiptoken", strconv.Itoa(endIdx))
		page["@odata.nextLink"] = scheme(r) + "://" + r.Host + "/v1.0/auditLogs/signIns?" + nq.Encode()
	}
	writeJSON(w, page, truncate)
}

// ContentID makes a content id in the shape of the real ones
// (<created>$<created>$<type>$<Type>$<region>).
func ContentID(ct string, created time.Time, n int) string {
	ts := created.UTC().Format("20060102150405") + fmt.Sprintf("%09d", created.Nanosecond())
	lower := strings.ToLower(strings.ReplaceAll(ct, ".", "_"))
	sum := sha1.Sum([]byte(fmt.Sprint(ct, created.UnixNano(), n)))
	return ts + "$" + ts + "$" + lower + "$" + strings.ReplaceAll(ct, ".", "_") + "$emea" + hex.EncodeToString(sum[:2]) + fmt.Sprintf("%04d", n)
}
