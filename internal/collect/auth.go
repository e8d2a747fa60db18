package collect

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Secret holds a credential. It prints as [redacted] however it is
// formatted or marshalled, so a Config or Credentials value that ends up
// in a log line or an error by mistake still shows no secret.
type Secret struct{ v string }

// NewSecret wraps a secret value.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the value, for the one place that sends it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s.v == "" }

// String and GoString print [redacted], never the value.
func (s Secret) String() string   { return "[redacted]" }
func (s Secret) GoString() string { return "[redacted]" }

// Format makes every verb (%v, %+v, %#v, %s, %q) print [redacted].
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, "[redacted]") }

// MarshalJSON keeps the secret out of JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Credentials are an app registration's client credentials: a client
// secret, or a certificate whose private key signs a client assertion.
type Credentials struct {
	TenantID string
	ClientID string
	Secret   Secret
	// Cert and Key are set for certificate credentials.
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// Check reports what is missing or inconsistent.
func (c *Credentials) Check() error {
	switch {
	case c.TenantID == "":
		return errors.New("no tenant id (--tenant-id, OUTSIDER_TENANT_ID or tenant_id in --config)")
	case c.ClientID == "":
		return errors.New("no client id (--client-id, OUTSIDER_CLIENT_ID or client_id in --config)")
	case c.Secret.IsZero() && c.Key == nil:
		return errors.New("no client secret or certificate (--client-secret-file, --certificate, OUTSIDER_CLIENT_SECRET, OUTSIDER_CLIENT_CERTIFICATE or --config)")
	case !c.Secret.IsZero() && c.Key != nil:
		return errors.New("both a client secret and a certificate are given: choose one")
	}
	return nil
}

// Redact returns s with every secret of c replaced by [redacted]. Errors
// and log lines pass through it before they are printed: a token endpoint
// or a proxy that echoed a request would otherwise leak the secret.
func (c *Credentials) Redact(s string) string {
	if c == nil {
		return s
	}
	if v := c.Secret.Reveal(); len(v) >= 4 {
		s = strings.ReplaceAll(s, v, "[redacted]")
		s = strings.ReplaceAll(s, url.QueryEscape(v), "[redacted]")
	}
	return s
}

// ReadSecretFile reads a client secret from a file: the first line, with
// surrounding white space removed.
func ReadSecretFile(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Secret{}, fmt.Errorf("client secret: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	v := strings.TrimSpace(string(line))
	if v == "" {
		return Secret{}, fmt.Errorf("client secret: %s is empty", path)
	}
	return NewSecret(v), nil
}

// ReadCertificate reads a PEM file holding the certificate and its RSA
// private key (unencrypted PKCS #8 "PRIVATE KEY" or PKCS #1 "RSA PRIVATE
// KEY"); keyPath names a separate key file, or "" when the key is in
// certPath. A .pfx must first be converted (openssl pkcs12 -nodes): the
// standard library reads no PKCS #12.
func ReadCertificate(certPath, keyPath string) (*x509.Certificate, *rsa.PrivateKey, error) {
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	// Every message names the file it is about: an admin with a
	// certificate file, a key file and a .pfx at hand must know which
	// one to fix.
	keyFile := certPath
	if keyPath != "" {
		kb, err := os.ReadFile(keyPath)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate key: %w", err)
		}
		data = append(append(data, '\n'), kb...)
		keyFile = certPath + " or " + keyPath
	}
	var cert *x509.Certificate
	var key *rsa.PrivateKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			if cert == nil {
				if cert, err = x509.ParseCertificate(b.Bytes); err != nil {
					return nil, nil, fmt.Errorf("certificate %s: %w", certPath, err)
				}
			}
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("certificate key in %s: %w", keyFile, err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, fmt.Errorf("certificate key in %s: not an RSA key (client assertions are signed PS256 or RS256, both RSA): make the certificate with openssl req -newkey rsa:2048", keyFile)
			}
			key = rk
		case "RSA PRIVATE KEY":
			if key, err = x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
				return nil, nil, fmt.Errorf("certificate key in %s: %w", keyFile, err)
			}
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, fmt.Errorf("certificate key in %s: encrypted keys are not supported: decrypt it (openssl pkey -in KEY.pem -out PLAIN.pem) and protect the file with its permissions (chmod 600)", keyFile)
		}
	}
	if cert == nil {
		return nil, nil, fmt.Errorf("certificate: no CERTIFICATE block in %s: --certificate wants the certificate and its key in one PEM file (cat cert.pem key.pem > outsider.pem)", certPath)
	}
	if key == nil {
		return nil, nil, fmt.Errorf("certificate %s: no private key in it: put the key in the same PEM file (cat cert.pem key.pem > outsider.pem) or name its file with --certificate-key", certPath)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, fmt.Errorf("certificate %s (thumbprint %s): the private key in %s does not belong to it: give the key made with this certificate", certPath, thumbprint(cert), keyFile)
	}
	return cert, key, nil
}

// tokenSource gets and caches the access token for one resource with the
// OAuth 2.0 client credentials grant on the Microsoft identity platform
// v2.0 endpoint: POST {login}/{tenant}/oauth2/v2.0/token with
// scope={resource}/.default and either client_secret or a client
// assertion (Microsoft identity platform "certificate credentials", see
// clientAssertion). The
// Management Activity API's own guide uses the v1 endpoint with
// resource=; both issue the same application token.
type tokenSource struct {
	cred     *Credentials
	tokenURL string
	scope    string
	c        *client
	now      func() time.Time
	// refreshBefore renews a token this long before it expires, so a
	// request never leaves with a token about to lapse.
	refreshBefore time.Duration

	mu  sync.Mutex
	tok string
	exp time.Time
}

func newTokenSource(c *client, cred *Credentials, loginURL, resource string, now func() time.Time) *tokenSource {
	return &tokenSource{
		cred:          cred,
		tokenURL:      loginURL + "/" + url.PathEscape(cred.TenantID) + "/oauth2/v2.0/token",
		scope:         strings.TrimRight(resource, "/") + "/.default",
		c:             c,
		now:           now,
		refreshBefore: 5 * time.Minute,
	}
}

// Token returns a valid access token, fetching one when the cached token
// is missing or within refreshBefore of expiring.
func (ts *tokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok != "" && ts.now().Before(ts.exp.Add(-ts.refreshBefore)) {
		return ts.tok, nil
	}
	return ts.fetch(ctx)
}

// Invalidate drops tok if it is the cached token (a resource said 401: it
// expired early or was revoked); the next Token call fetches a new one.
func (ts *tokenSource) Invalidate(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok == tok {
		ts.tok = ""
	}
}

func (ts *tokenSource) fetch(ctx context.Context) (string, error) {
	ts.c.tokenMu.Lock()
	defer ts.c.tokenMu.Unlock()
	ts.c.credMu.Lock()
	credErr := ts.c.credErr
	ts.c.credMu.Unlock()
	if credErr != nil {
		return "", credErr
	}
	issued := ts.now()
	legacy := ts.c.legacyAssertion.Load()
	resp, err := ts.request(ctx, legacy)
	if err == nil && resp.status != 200 && ts.cred.Key != nil && !legacy && refusedClient(resp) {
		// An endpoint that does not take the PS256 form yet: try the
		// RS256/x5t form once, and keep it for the run if it is taken.
		if r2, err2 := ts.request(ctx, true); err2 == nil && r2.status == 200 {
			ts.c.legacyAssertion.Store(true)
			ts.c.problems.note("legacy assertion", "the token endpoint refused the PS256 client assertion (x5t#S256) and took the RS256 one (x5t, SHA-1)", "using RS256 from now on", false)
			resp = r2
		}
	}
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, errNotRetryable) {
			ts.c.credMu.Lock()
			ts.c.credErr = err
			ts.c.credMu.Unlock()
		}
		return "", err
	}
	if resp.status != 200 {
		// {"error":"invalid_client","error_description":"AADSTS7000215: ..."}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(resp.body, &e)
		desc, _, _ := strings.Cut(e.Description, "\r\n") // drop the trace and correlation ids
		if credentialRefused(e.Error, desc) {
			// The same answer awaits every scope: say it once, without
			// the scope, and ask no more.
			err := fmt.Errorf("cannot get an access token from %s: HTTP %d %s: %s", hostOf(ts.tokenURL), resp.status, e.Error, ts.cred.Redact(desc))
			ts.c.credMu.Lock()
			ts.c.credErr = err
			ts.c.credMu.Unlock()
			return "", err
		}
		return "", fmt.Errorf("token request for %s: HTTP %d %s: %s", ts.scope, resp.status, e.Error, ts.cred.Redact(desc))
	}
	var tr struct {
		TokenType   string          `json:"token_type"`
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"` // a number on v2.0, a string on v1
	}
	if err := json.Unmarshal(resp.body, &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("token request for %s: no access token in the response", ts.scope)
	}
	secs, err := strconv.ParseInt(strings.Trim(string(tr.ExpiresIn), `"`), 10, 64)
	if err != nil || secs <= 0 {
		secs = 300 // unknown lifetime: assume a short one, refresh early
	}
	life := time.Duration(secs) * time.Second
	ts.tok, ts.exp = tr.AccessToken, issued.Add(life)
	// Renew 5 minutes before expiry, or a quarter of the lifetime for
	// short-lived tokens.
	ts.refreshBefore = min(5*time.Minute, life/4)
	return ts.tok, nil
}

// request sends one token request: the client secret, or a client
// assertion (legacy: the RS256/x5t form).
func (ts *tokenSource) request(ctx context.Context, legacy bool) (*response, error) {
	form := url.Values{}
	form.Set("grant_type", "client_credentials")
	form.Set("client_id", ts.cred.ClientID)
	form.Set("scope", ts.scope)
	if ts.cred.Key != nil {
		a, err := clientAssertion(ts.cred, ts.tokenURL, ts.now(), legacy)
		if err != nil {
			return nil, notRetryable{err}
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	} else {
		form.Set("client_secret", ts.cred.Secret.Reveal())
	}
	return ts.c.do(ctx, &request{
		method: "POST", url: ts.tokenURL, name: "cannot get an access token from " + hostOf(ts.tokenURL),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body:   []byte(form.Encode()),
	})
}

// refusedClient says whether a token answer refused the client's
// credentials (invalid_client), the answer to an assertion it cannot use.
func refusedClient(r *response) bool {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error == "invalid_client"
}

// credentialRefused says whether a token endpoint's refusal is about the
// client itself (its secret, certificate, id or tenant) rather than the
// scope asked for: invalid_client, unauthorized_client, or the AADSTS
// codes of an unknown application or tenant.
func credentialRefused(code, desc string) bool {
	switch code {
	case "invalid_client", "unauthorized_client":
		return true
	}
	return strings.Contains(desc, "AADSTS700016") || strings.Contains(desc, "AADSTS90002")
}

// clientAssertion builds the signed JWT of certificate credentials as
// "Microsoft identity platform application authentication certificate
// credentials" documents it today
// (https://learn.microsoft.com/entra/identity-platform/certificate-credentials):
// header alg PS256 (RSASSA-PSS with SHA-256, "Use PSS padding"), typ JWT,
// x5t#S256 = base64url SHA-256 thumbprint of the certificate's DER;
// claims aud = the token endpoint, iss = sub = the client id, jti a fresh
// GUID, nbf and iat now, exp ten minutes later (the page: "5-10 minutes
// after nbf at most").
//
// legacy builds the form the page showed before and the Management API's
// "Get started" guide still shows: alg RS256 (PKCS #1 v1.5) and x5t, the
// SHA-1 thumbprint. Entra ID still takes it; tokenSource falls back to it
// when an endpoint refuses the PS256 form.
func clientAssertion(c *Credentials, aud string, now time.Time, legacy bool) (string, error) {
	hdr := map[string]string{"alg": "PS256", "typ": "JWT"}
	if legacy {
		thumb := sha1.Sum(c.Cert.Raw)
		hdr["alg"], hdr["x5t"] = "RS256", base64.RawURLEncoding.EncodeToString(thumb[:])
	} else {
		thumb := sha256.Sum256(c.Cert.Raw)
		hdr["x5t#S256"] = base64.RawURLEncoding.EncodeToString(thumb[:])
	}
	header, _ := json.Marshal(hdr)
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	jti[6] = jti[6]&0x0f | 0x40 // a version 4 UUID
	jti[8] = jti[8]&0x3f | 0x80
	claims, _ := json.Marshal(map[string]any{
		"aud": aud,
		"iss": c.ClientID,
		"sub": c.ClientID,
		"jti": fmt.Sprintf("%x-%x-%x-%x-%x", jti[0:4], jti[4:6], jti[6:8], jti[8:10], jti[10:16]),
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	})
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	var sig []byte
	var err error
	if legacy {
		sig, err = rsa.SignPKCS1v15(rand.Reader, c.Key, crypto.SHA256, sum[:])
	} else {
		// RFC 7518 section 3.5: PS256's salt is as long as the hash.
		sig, err = rsa.SignPSS(rand.Reader, c.Key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	if err != nil {
		return "", fmt.Errorf("signing the client assertion: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
