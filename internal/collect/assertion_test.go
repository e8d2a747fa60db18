package collect

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// decodeJWT splits a compact JWS into its decoded header, claims, and
// the signing input and signature.
func decodeJWT(t *testing.T, jwt string) (hdr, claims map[string]any, signing string, sig []byte) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d is not base64url without padding: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	return hdr, claims, parts[0] + "." + parts[1], sig
}

// TestClientAssertionShape checks both forms of the assertion against
// "Microsoft identity platform application authentication certificate
// credentials": the header (PS256, JWT, x5t#S256 today; RS256 and x5t
// before), the claims (aud, iss, sub, jti, nbf, exp, iat), and the
// signature (PSS, or PKCS #1 v1.5).
func TestClientAssertionShape(t *testing.T) {
	certPath, cert := testCert(t, t.TempDir())
	c, k, err := ReadCertificate(certPath, "")
	if err != nil {
		t.Fatal(err)
	}
	cred := &Credentials{TenantID: "t", ClientID: testClientID, Cert: c, Key: k}
	aud := "https://login.microsoftonline.com/6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9/oauth2/v2.0/token"
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s256, s1 := sha256.Sum256(cert.Raw), sha1.Sum(cert.Raw)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	jtis := map[string]bool{}
	for _, legacy := range []bool{false, true} {
		jwt, err := clientAssertion(cred, aud, now, legacy)
		if err != nil {
			t.Fatal(err)
		}
		hdr, claims, signing, sig := decodeJWT(t, jwt)
		want := map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(s256[:])}
		if legacy {
			want = map[string]any{"alg": "RS256", "typ": "JWT", "x5t": base64.RawURLEncoding.EncodeToString(s1[:])}
		}
		if len(hdr) != len(want) {
			t.Errorf("legacy=%v: header %v, want %v", legacy, hdr, want)
		}
		for k, v := range want {
			if hdr[k] != v {
				t.Errorf("legacy=%v: header %s = %v, want %v", legacy, k, hdr[k], v)
			}
		}
		for k, v := range map[string]any{"aud": aud, "iss": testClientID, "sub": testClientID,
			"nbf": float64(now.Unix()), "iat": float64(now.Unix()), "exp": float64(now.Add(10 * time.Minute).Unix())} {
			if claims[k] != v {
				t.Errorf("legacy=%v: claim %s = %v, want %v", legacy, k, claims[k], v)
			}
		}
		if len(claims) != 7 {
			t.Errorf("legacy=%v: claims %v, want exactly aud iss sub jti nbf iat exp", legacy, claims)
		}
		jti, _ := claims["jti"].(string)
		if !uuid.MatchString(jti) || jtis[jti] {
			t.Errorf("jti %q is not a fresh GUID", jti)
		}
		jtis[jti] = true
		if exp, nbf := claims["exp"].(float64), claims["nbf"].(float64); exp-nbf > 600 {
			t.Errorf("exp %v more than 10 minutes after nbf %v", exp, nbf)
		}
		sum := sha256.Sum256([]byte(signing))
		if legacy {
			err = rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig)
		} else {
			err = rsa.VerifyPSS(&k.PublicKey, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		if err != nil {
			t.Errorf("legacy=%v: signature: %v", legacy, err)
		}
	}
}

// TestLegacyAssertionFallback: an endpoint that takes only the RS256/x5t
// form still gets a working collection, with one refused request and one
// line saying so.
func TestLegacyAssertionFallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.LegacyAssertionsOnly = true
	cfg := e.certConfig(t)
	cfg.ContentTypes = []string{"Audit.SharePoint"}
	if _, err := e.run(context.Background(), cfg); err != nil {
		t.Fatalf("collect against an RS256-only endpoint: %v", err)
	}
	refused := 0
	for _, r := range e.fake.Requests() {
		if strings.HasSuffix(r.Path, "/token") && r.Status != 200 {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d refused token requests, want 1 (then RS256 for the run)", refused)
	}
	if n := strings.Count(e.log.String(), "took the RS256 one"); n != 1 {
		t.Errorf("fallback said %d times:\n%s", n, e.log)
	}
}

// TestCheckCertificate: a certificate set-up passes the check, naming
// the thumbprint the Entra admin center shows.
func TestCheckCertificate(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	cfg := e.certConfig(t)
	// The test certificate is valid around the real time.
	cfg.Now, e.fake.Now = time.Now, time.Now
	rep, out := runCheck(t, e, cfg)
	if !rep.OK {
		t.Fatalf("certificate set-up fails the check:\n%s", out)
	}
	thumb := sha1.Sum(e.fake.Cert.Raw)
	if r := result(t, rep, "certificate "); r.Status != CheckWarn || !strings.Contains(r.Name, strings.ToUpper(hexString(thumb[:]))) {
		t.Errorf("certificate line: %+v (a one-day certificate should warn)", r)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
