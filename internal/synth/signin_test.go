package synth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// generateWithLog generates the UAL and the sign-in log.
func generateWithLog(t testing.TB, o Options) (ual, log []byte, exp *Expected) {
	t.Helper()
	var u, l bytes.Buffer
	o.SignInLog = &l
	exp, err := Generate(&u, o)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return u.Bytes(), l.Bytes(), exp
}

// parseSignInLog reads the sign-in log back with encoding/json: one Graph
// page per line, every page but the last with a nextLink.
func parseSignInLog(t testing.TB, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 16<<20), 16<<20)
	var pages []map[string]any
	for sc.Scan() {
		var page map[string]any
		if err := json.Unmarshal(sc.Bytes(), &page); err != nil {
			t.Fatalf("sign-in log page %d: %v", len(pages)+1, err)
		}
		if ctx, _ := page["@odata.context"].(string); !strings.HasSuffix(ctx, "$metadata#auditLogs/signIns") {
			t.Fatalf("page %d: @odata.context %q", len(pages)+1, ctx)
		}
		vals, ok := page["value"].([]any)
		if !ok || len(vals) == 0 || len(vals) > 1000 {
			t.Fatalf("page %d: value is %T of %d", len(pages)+1, page["value"], len(vals))
		}
		for _, v := range vals {
			out = append(out, v.(map[string]any))
		}
		pages = append(pages, page)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for i, p := range pages {
		_, more := p["@odata.nextLink"]
		if more != (i < len(pages)-1) {
			t.Errorf("page %d of %d: nextLink %v", i+1, len(pages), more)
		}
	}
	return out
}

// TestSignInLogKeepsUAL: writing the sign-in log changes nothing in the
// UAL, in any format.
func TestSignInLogKeepsUAL(t *testing.T) {
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			o := Options{Format: f, Seed: 7}
			plain, pexp := generate(t, o)
			ual, log, exp := generateWithLog(t, o)
			if !bytes.Equal(plain, ual) {
				t.Fatal("the UAL differs when the sign-in log is written")
			}
			if len(log) == 0 || exp.SignInLog == nil || exp.SignInLog.Bytes != int64(len(log)) {
				t.Fatalf("sign-in log of %d bytes, Expected says %+v", len(log), exp.SignInLog)
			}
			if exp.Records != pexp.Records || exp.Bytes != pexp.Bytes || exp.From != pexp.From || exp.To != pexp.To ||
				!reflect.DeepEqual(exp.InferredDomains, pexp.InferredDomains) || !reflect.DeepEqual(exp.NotReported, pexp.NotReported) {
				t.Fatal("Expected's UAL facts differ when the sign-in log is written")
			}
			for _, id := range pexp.Identities {
				if id.Sources != nil {
					t.Fatalf("%s: sources %v without a sign-in log", id.User, id.Sources)
				}
			}
		})
	}
}

func TestSignInLogDeterministic(t *testing.T) {
	for _, f := range []string{FormatJSONL, FormatPurviewCSV} {
		o := Options{Format: f, Seed: 7}
		_, a, ea := generateWithLog(t, o)
		_, b, eb := generateWithLog(t, o)
		if sha256.Sum256(a) != sha256.Sum256(b) || !reflect.DeepEqual(ea, eb) {
			t.Fatalf("%s: same options, different sign-in log or Expected", f)
		}
		o.Seed = 8
		if _, c, _ := generateWithLog(t, o); bytes.Equal(a, c) {
			t.Fatalf("%s: different seeds, same sign-in log", f)
		}
	}
}

// TestSignInLogTwins: every UAL sign-in has its Graph twin (id =
// IntraSystemId, correlationId = InterSystemsId) saying the same thing,
// with the cross-tenant facts of its class; the other sign-ins are the
// ones only the log has.
func TestSignInLogTwins(t *testing.T) {
	for _, o := range []Options{{Seed: 3}, {Seed: 11, Size: 12 << 20, Days: 3}, {Seed: 5, Duplicates: 7}} {
		t.Run(fmt.Sprintf("seed=%d,size=%d", o.Seed, o.Size), func(t *testing.T) {
			ual, log, exp := generateWithLog(t, o)
			signIns := parseSignInLog(t, log)
			byID := map[string]map[string]any{}
			var prev time.Time
			for i, s := range signIns {
				id, _ := s["id"].(string)
				if byID[id] != nil {
					t.Fatalf("sign-in id %s twice", id)
				}
				byID[id] = s
				ct, err := time.Parse(time.RFC3339, s["createdDateTime"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if i > 0 && ct.Before(prev) {
					t.Fatalf("sign-in %s out of order", id)
				}
				prev = ct
			}
			if int64(len(signIns)) != exp.SignInLog.Records {
				t.Fatalf("%d sign-ins, Expected says %d", len(signIns), exp.SignInLog.Records)
			}
			seen := map[string]bool{}
			var twins int64
			for _, p := range parseOutput(t, FormatJSONL, ual) {
				m := p.audit
				op := m["Operation"]
				if op != "UserLoggedIn" && op != "UserLoginFailed" {
					continue
				}
				intra := m["IntraSystemId"].(string)
				if seen[intra] {
					continue // a duplicate record
				}
				seen[intra] = true
				twins++
				s := byID[intra]
				if s == nil {
					t.Fatalf("UAL sign-in %s (IntraSystemId %s) has no twin in the sign-in log", p.id, intra)
				}
				checkTwin(t, m, s)
			}
			if twins != exp.SignInLog.Twins || int64(len(signIns))-twins != exp.SignInLog.OnlyInSignInLog || exp.SignInLog.OnlyInSignInLog == 0 {
				t.Fatalf("%d twins and %d others; Expected says %+v", twins, int64(len(signIns))-twins, exp.SignInLog)
			}
			for id, s := range byID {
				if !seen[id] && s["userPrincipalName"] != "Pilar.Pinilla@fabrikam.com" && s["userPrincipalName"] != "Hana.Sato@tailwindtraders.com" {
					t.Errorf("sign-in %s of %v only in the sign-in log", id, s["userPrincipalName"])
				}
			}
		})
	}
}

func checkTwin(t *testing.T, m, s map[string]any) {
	t.Helper()
	id := m["Id"].(string)
	str := func(k string) string { v, _ := s[k].(string); return v }
	if str("correlationId") != m["InterSystemsId"] {
		t.Errorf("%s: correlationId %q, InterSystemsId %v", id, str("correlationId"), m["InterSystemsId"])
	}
	if str("createdDateTime") != m["CreationTime"].(string)+"Z" {
		t.Errorf("%s: createdDateTime %q, CreationTime %v", id, str("createdDateTime"), m["CreationTime"])
	}
	if str("appId") != m["ApplicationId"] || str("resourceTenantId") != TenantID {
		t.Errorf("%s: appId %q resourceTenantId %q", id, str("appId"), str("resourceTenantId"))
	}
	ual, _ := canonicalUser(m["UserId"].(string))
	if graph, _ := canonicalUser(str("userPrincipalName")); graph != ual {
		t.Errorf("%s: userPrincipalName %q, UserId %v", id, str("userPrincipalName"), m["UserId"])
	}
	a, _ := normaliseIP(m["ActorIpAddress"].(string))
	if str("ipAddress") != a.String() {
		t.Errorf("%s: ipAddress %q, ActorIpAddress %v", id, str("ipAddress"), m["ActorIpAddress"])
	}
	// Class facts.
	guest := m["UserType"].(float64) == 10
	ctx := m["ActorContextId"].(string)
	switch {
	case guest:
		if str("crossTenantAccessType") != "b2bCollaboration" || str("userType") != "guest" || str("homeTenantId") == TenantID {
			t.Errorf("%s: guest written %s/%s home %s", id, str("crossTenantAccessType"), str("userType"), str("homeTenantId"))
		}
	case ctx == TenantID:
		if str("crossTenantAccessType") != "none" || str("userType") != "member" || str("homeTenantId") != TenantID {
			t.Errorf("%s: member written %s/%s home %s", id, str("crossTenantAccessType"), str("userType"), str("homeTenantId"))
		}
	default:
		if str("crossTenantAccessType") != "passthrough" || str("userType") != "member" || str("homeTenantId") != ctx {
			t.Errorf("%s: outsider of %s written %s/%s home %s", id, ctx, str("crossTenantAccessType"), str("userType"), str("homeTenantId"))
		}
	}
	// The outcome (docs/rules.md) is the same in both logs.
	extra := map[string]string{}
	for _, p := range m["ExtendedProperties"].([]any) {
		nv := p.(map[string]any)
		extra[nv["Name"].(string)] = nv["Value"].(string)
	}
	errNum, _ := m["ErrorNumber"].(string)
	logonErr, _ := m["LogonError"].(string)
	e := &event{op: m["Operation"].(string), errNum: errNum, logonErr: logonErr, rsd: extra["ResultStatusDetail"]}
	status := s["status"].(map[string]any)
	code := fmt.Sprint(status["errorCode"])
	graphOutcome := success
	switch {
	case code == "0":
	case interruptCodes[code]:
		graphOutcome = interrupted
	default:
		graphOutcome = failure
	}
	if signinOutcome(e) != graphOutcome {
		t.Errorf("%s: UAL outcome %v (%s %q %q %q), errorCode %s", id, signinOutcome(e), e.op, errNum, logonErr, e.rsd, code)
	}
	if ua := extra["UserAgent"]; str("userAgent") != ua {
		t.Errorf("%s: userAgent %q, UserAgent %q", id, str("userAgent"), ua)
	}
	loc, _ := s["location"].(map[string]any)
	if loc == nil || loc["countryOrRegion"] == "" || str("conditionalAccessStatus") == "" || str("riskLevelDuringSignIn") == "" || str("clientAppUsed") == "" {
		t.Errorf("%s: location %v, conditional access %q, risk %q, client app %q", id, loc, str("conditionalAccessStatus"), str("riskLevelDuringSignIn"), str("clientAppUsed"))
	}
	if s["isInteractive"] != true {
		t.Errorf("%s: a UAL sign-in's twin is not interactive", id)
	}
}

// TestSignInLogExpected: with the sign-in log, the answers gain the
// outsider only the log knows and the sign-ins only it has, and every
// identity says where it was seen.
func TestSignInLogExpected(t *testing.T) {
	_, plain := generate(t, Options{Seed: 3})
	_, _, exp := generateWithLog(t, Options{Seed: 3})
	if len(exp.Identities) != len(plain.Identities)+1 || exp.Summary.Identities != len(exp.Identities) {
		t.Fatalf("%d identities with the sign-in log, %d without", len(exp.Identities), len(plain.Identities))
	}
	h, ok := exp.Identity("hana.sato@tailwindtraders.com")
	if !ok || h.Scenario != ScenarioSignInLogOnly || h.Class != "passthrough" || h.Verdict != "signin-only" ||
		h.SigninsSuccess != 2 || h.SigninsFailure != 1 || !slices.Equal(h.Sources, []string{"entra-signin"}) ||
		!slices.Equal(h.Apps, []string{appSharePoint}) || len(h.IPs) != 1 {
		t.Errorf("the sign-in-log-only outsider: %+v", h)
	}
	for _, id := range plain.Identities {
		got, ok := exp.Identity(id.User)
		if !ok {
			t.Fatalf("%s missing with the sign-in log", id.User)
		}
		if !slices.Equal(got.Sources, []string{"entra-signin", "ual"}) {
			t.Errorf("%s: sources %v", id.User, got.Sources)
		}
		want := id
		want.Sources = got.Sources
		if id.User == "pilar.pinilla@fabrikam.com" {
			// Two token refreshes to SharePoint only the log has.
			want.SigninsSuccess += 2
			want.Apps = []string{appSharePoint, appAccessPanel}
			want.Note = got.Note
			if !strings.Contains(got.Note, "sign-in log adds two non-interactive sign-ins") {
				t.Errorf("pilar's note %q", got.Note)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n with log %+v\n UAL only %+v", id.User, got, want)
		}
	}
}
