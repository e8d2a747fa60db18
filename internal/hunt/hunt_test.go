package hunt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

// testIndexes scope the Splunk searches (Options.Indexes is required for
// Splunk and ignored by the other targets).
var testIndexes = []string{"o365"}

// goldenFirstParty keeps golden files readable: the real catalogue has some
// 900 ids (TestDefaultFirstPartyIsCatalogue checks they are all used).
var goldenFirstParty = []string{
	"00000002-0000-0ff1-ce00-000000000000",
	"00000003-0000-0ff1-ce00-000000000000",
	"0000000c-0000-0000-c000-000000000000",
}

func readReport(t *testing.T, path string) *triage.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := DecodeReport(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// exampleReport triages the bundled example tenant with the real engine.
func exampleReport(t *testing.T) *triage.Report {
	t.Helper()
	rep, err := triage.Run(context.Background(), []string{filepath.Join("..", "..", "examples", "tenant.jsonl")}, triage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Identities) == 0 {
		t.Fatal("the example tenant has no outside identity")
	}
	return rep
}

func text(t *testing.T, set *Set) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, set); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGolden pins the output of both modes for every SIEM: the triage over
// the default period, the follow-up of testdata/report.json (whose first
// identity and IP are hostile, to show each language's quoting).
func TestGolden(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	for _, siem := range SIEMs {
		tri, err := Triage(siem, Options{Indexes: testIndexes, FirstParty: goldenFirstParty})
		if err != nil {
			t.Fatal(err)
		}
		testutil.Golden(t, filepath.Join("testdata", string(siem)+"-triage.golden"), []byte(text(t, tri)))
		fu, err := FollowUp(siem, rep, Options{Indexes: testIndexes, FirstParty: goldenFirstParty})
		if err != nil {
			t.Fatal(err)
		}
		testutil.Golden(t, filepath.Join("testdata", string(siem)+"-followup.golden"), []byte(text(t, fu)))
	}
	// JSON, and a fixed period.
	set, err := Triage(Splunk, Options{Indexes: testIndexes, FirstParty: goldenFirstParty,
		Since: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 10, 15, 12, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, set.Queries); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "splunk-triage-fixed-period.json.golden"), b.Bytes())
}

func TestDeterministic(t *testing.T) {
	rep := exampleReport(t)
	for _, siem := range SIEMs {
		a, _ := FollowUp(siem, rep, Options{Indexes: testIndexes})
		b, _ := FollowUp(siem, rep, Options{Indexes: testIndexes})
		if text(t, a) != text(t, b) {
			t.Errorf("%s: follow-up differs between two runs", siem)
		}
		c, _ := Triage(siem, Options{Indexes: testIndexes})
		d, _ := Triage(siem, Options{Indexes: testIndexes})
		if text(t, c) != text(t, d) {
			t.Errorf("%s: triage differs between two runs", siem)
		}
	}
}

// TestQueriesLex reads every query of every SIEM and mode with the
// language's lexer: every literal is closed, no raw line break is in one,
// and (SPL) no backtick or dollar is outside a comment. KQL and SPL queries
// hold no blank line, so an editor that runs "the query under the cursor"
// takes all of it.
func TestQueriesLex(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	for _, siem := range SIEMs {
		tri, _ := Triage(siem, Options{Indexes: testIndexes})
		fu, _ := FollowUp(siem, rep, Options{Indexes: testIndexes})
		for _, set := range []*Set{tri, fu} {
			for _, q := range set.Queries {
				if _, err := lexFor(siem)(q.Query); err != nil {
					t.Errorf("%s %s %s: %v", siem, set.Mode, q.Name, err)
				}
				if siem != Purview && strings.Contains(strings.TrimSpace(q.Query), "\n\n") {
					t.Errorf("%s %s %s: a blank line inside the query", siem, set.Mode, q.Name)
				}
				if q.Purpose == "" || q.HowToRead == "" {
					t.Errorf("%s %s %s: no purpose or how to read", siem, set.Mode, q.Name)
				}
			}
			if _, err := lexFor(siem)(text(t, set)); err != nil {
				t.Errorf("%s %s: the text output: %v", siem, set.Mode, err)
			}
		}
	}
}

// normalizeKQLLists folds KQL value lists (dynamic([…]), pack_array(…),
// array_concat(…) of literals) to L, since plain and encoded values are
// listed differently; everything else must stay the same.
func normalizeKQLLists(s string) string {
	dyn := regexp.MustCompile(`dynamic\(\[[\sS,]*\]\)`)
	pack := regexp.MustCompile(`pack_array\([\sS,]*\)`)
	cat := regexp.MustCompile(`array_concat\([\sL,]*\)`)
	s = dyn.ReplaceAllString(s, "L")
	s = pack.ReplaceAllString(s, "L")
	return cat.ReplaceAllString(s, "L")
}

// twinReports returns a report whose users, IPs and tenant domains are all
// hostile, and a twin with as many ordinary values: the queries of the two
// must read the same outside their literals.
func twinReports(t *testing.T) (evil, plain *triage.Report) {
	t.Helper()
	base := readReport(t, filepath.Join("testdata", "report.json"))
	mk := func(users, ips []string, domains []string) *triage.Report {
		r := *base
		r.Tenant.Domains = domains
		r.Identities = nil
		for i, u := range users {
			r.Identities = append(r.Identities, triage.Identity{User: u, Signins: triage.Signins{IPs: []string{ips[i]}}})
		}
		return &r
	}
	var eu, ei, pu, pi []string
	for i, v := range hostile {
		eu = append(eu, v)
		ei = append(ei, "ip "+v)
		pu = append(pu, "user"+strings.Repeat("x", i)+"@example.com")
		pi = append(pi, "77.56.2."+strings.Repeat("1", 1+i%3)+string(rune('0'+i%10)))
	}
	// Make the plain IPs distinct like the hostile ones.
	seen := map[string]bool{}
	for i := range pi {
		for seen[pi[i]] {
			pi[i] += "0"
		}
		seen[pi[i]] = true
	}
	evil = mk(eu, ei, []string{"x'$(calc)\"`.onmicrosoft.com", "contoso.onmicrosoft.com"})
	plain = mk(pu, pi, []string{"a.onmicrosoft.com", "contoso.onmicrosoft.com"})
	return evil, plain
}

// TestInjection: for every SIEM, the follow-up of a report made of hostile
// values reads, outside its literals, exactly like the follow-up of a report
// made of ordinary ones, and every hostile value comes back whole from one
// literal.
func TestInjection(t *testing.T) {
	evil, plain := twinReports(t)
	opts := Options{Indexes: testIndexes, Since: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)}
	for _, siem := range SIEMs {
		es, err := FollowUp(siem, evil, opts)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := FollowUp(siem, plain, opts)
		if err != nil {
			t.Fatal(err)
		}
		lex := lexFor(siem)
		el, err := lex(text(t, es))
		if err != nil {
			t.Fatalf("%s: hostile follow-up: %v", siem, err)
		}
		pl, err := lex(text(t, ps))
		if err != nil {
			t.Fatalf("%s: plain follow-up: %v", siem, err)
		}
		esk, psk := el.skeleton, pl.skeleton
		if siem == Sentinel || siem == Defender {
			esk, psk = normalizeKQLLists(esk), normalizeKQLLists(psk)
		}
		if esk != psk {
			t.Errorf("%s: hostile values changed the query outside its literals:\n%s", siem, firstDiff(esk, psk))
		}
		got := map[string]bool{}
		for _, v := range el.values {
			got[v] = true
		}
		for _, id := range evil.Identities {
			if !got[id.User] {
				t.Errorf("%s: user %q is not one literal of the query", siem, id.User)
			}
			ip := id.Signins.IPs[0]
			if siem == Sentinel || siem == Defender {
				ip = kqlIP(ip)
			}
			if !got[ip] {
				t.Errorf("%s: IP %q is not one literal of the query", siem, ip)
			}
		}
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return "hostile: …" + a[lo:min(len(a), i+80)] + "…\nplain:   …" + b[lo:min(len(b), i+80)] + "…"
}

// TestFollowUpNamesExactly: the literals a follow-up adds to the queries
// (compared with the follow-up of a report with no identity) are exactly the
// report's identities and IPs (and, for Purview, its onmicrosoft.com
// domains, where guest UPNs live). The report comes from the real engine
// on the bundled example tenant.
func TestFollowUpNamesExactly(t *testing.T) {
	rep := exampleReport(t)
	empty := *rep
	empty.Identities = nil
	empty.Tenant.Domains = nil
	opts := Options{Indexes: testIndexes, Since: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)}

	var users, ips []string
	for _, id := range rep.Identities {
		users = append(users, id.User)
		ips = append(ips, id.Signins.IPs...)
	}
	for _, siem := range SIEMs {
		full, err := FollowUp(siem, rep, opts)
		if err != nil {
			t.Fatal(err)
		}
		none, err := FollowUp(siem, &empty, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range full.Queries {
			fl, err := lexFor(siem)(q.Query)
			if err != nil {
				t.Fatal(err)
			}
			nl, err := lexFor(siem)(none.Queries[i].Query)
			if err != nil {
				t.Fatal(err)
			}
			static := map[string]bool{}
			for _, v := range nl.values {
				static[v] = true
			}
			added := map[string]bool{}
			for _, v := range fl.values {
				if !static[v] {
					added[v] = true
				}
			}
			want := map[string]bool{}
			if siem == Purview && q.Name != "setup" {
				// The values are set once, in the setup step.
			} else {
				for _, u := range users {
					want[u] = true
				}
				for _, ip := range ips {
					if siem == Sentinel || siem == Defender {
						ip = kqlIP(ip)
					}
					want[ip] = true
				}
				if siem == Purview {
					for _, d := range rep.Tenant.Domains {
						if strings.HasSuffix(d, ".onmicrosoft.com") {
							want[d] = true
						}
					}
				}
			}
			if !mapsEqual(added, want) {
				t.Errorf("%s %s: the query names %v, want exactly %v", siem, q.Name, keys(added), keys(want))
			}
		}
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestTargetsOf(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	got := TargetsOf(rep)
	if got.Identities != 4 || len(got.Users) != 4 {
		t.Errorf("identities %d, users %v", got.Identities, got.Users)
	}
	wantIPs := []string{"10.0.0.1\" or 1==1 // | $(calc) '", "2a0a:a540::1", "77.56.2.99", "86.138.113.7", "95.91.100.4"}
	if !slices.Equal(got.IPs, wantIPs) {
		t.Errorf("IPs %q, want %q", got.IPs, wantIPs)
	}
	if !slices.Equal(got.GuestDomains, []string{"contoso.onmicrosoft.com"}) {
		t.Errorf("guest domains %q", got.GuestDomains)
	}
	// Addresses that cannot identify a client are no target: they link
	// nothing (docs/rules.md "IPs").
	rep.Identities = append(rep.Identities, triage.Identity{User: "x@fabrikam.example", Signins: triage.Signins{
		IPs: []string{"127.0.0.1", "203.0.113.5", "2001:db8::5", "0.0.0.0", "fe80::1", "10.1.2.3"}}})
	want := append([]string{"10.1.2.3"}, wantIPs...)
	slices.Sort(want)
	if got := TargetsOf(rep); !slices.Equal(got.IPs, want) {
		t.Errorf("IPs %q: only 10.1.2.3 of the new ones identifies a client", got.IPs)
	}
}

func TestKQLIP(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":        "192.0.2.1",
		"::ffff:192.0.2.1": "192.0.2.1",
		"2001:db8::1":      "2001:0db8:0000:0000:0000:0000:0000:0001",
		"fe80::1%eth0":     "fe80:0000:0000:0000:0000:0000:0000:0001",
		"not an ip":        "not an ip",
	} {
		if got := kqlIP(in); got != want {
			t.Errorf("kqlIP(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPeriod: the follow-up runs from the report's start until the query
// runs (what the identities did after the report is what a follow-up is
// for), and says where the report ended; --since/--until replace either
// end; an empty period is an error.
func TestPeriod(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	set, err := FollowUp(Sentinel, rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := set.Queries[0].Query
	if !strings.Contains(q, "let Start = datetime(2026-10-01T08:00:00Z);") || !strings.Contains(q, "let End = now();") {
		t.Errorf("default follow-up period:\n%s", q[:200])
	}
	if h := strings.Join(set.Header, "\n"); !strings.Contains(h, "2026-10-01T08:00:00Z until the query runs") ||
		!strings.Contains(h, "The report covers 2026-10-01T08:00:00Z to 2026-10-03T17:30:00Z; anything later is new") {
		t.Errorf("header does not say the period and the report's end:\n%s", h)
	}
	for _, siem := range []SIEM{Splunk, Purview} {
		set, err := FollowUp(siem, rep, Options{Indexes: testIndexes})
		if err != nil {
			t.Fatal(err)
		}
		want := map[SIEM]string{Splunk: "earliest=" + strconv.FormatInt(time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC).Unix(), 10) + " latest=now",
			Purview: "$End = [datetime]::UtcNow"}[siem]
		if !strings.Contains(set.Queries[0].Query, want) {
			t.Errorf("%s: default follow-up period is not through now, want %q", siem, want)
		}
	}
	until := time.Date(2026, 10, 3, 17, 30, 1, 0, time.UTC)
	set, err = FollowUp(Splunk, rep, Options{Indexes: testIndexes, Since: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Until: until})
	if err != nil {
		t.Fatal(err)
	}
	want := "earliest=" + strconv.FormatInt(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).Unix(), 10) +
		" latest=" + strconv.FormatInt(until.Unix(), 10)
	if !strings.Contains(set.Queries[0].Query, want) {
		t.Errorf("--since and --until:\n%s", set.Queries[0].Query[:300])
	}
	if _, err := FollowUp(Purview, rep, Options{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Errorf("a --since after the report's end, through now: %v", err)
	}
	if _, err := FollowUp(Purview, rep, Options{Until: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("an --until before the report's start: no error")
	}
	tri, _ := Triage(Purview, Options{Lookback: 7 * 24 * time.Hour})
	if !strings.Contains(tri.Queries[0].Query, "$Start = $End.AddDays(-7)") {
		t.Error("lookback not in the Purview script")
	}
}

// TestDefaultFirstPartyIsCatalogue: without Options.FirstParty the verdict
// queries carry every id of the embedded catalogue.
func TestDefaultFirstPartyIsCatalogue(t *testing.T) {
	for _, siem := range []SIEM{Sentinel, Defender, Splunk} {
		set, err := Triage(siem, Options{Indexes: testIndexes})
		if err != nil {
			t.Fatal(err)
		}
		v := set.Queries[len(set.Queries)-1]
		if v.Name != "verdicts" {
			t.Fatalf("%s: last query is %s", siem, v.Name)
		}
		for _, a := range apps.All() {
			if !strings.Contains(v.Query, `"`+a.ID+`"`) {
				t.Errorf("%s: first-party app %s missing", siem, a.ID)
				break
			}
		}
	}
}

func TestDecodeReport(t *testing.T) {
	for _, bad := range []string{`{"schema":"outsider/triage/v2","identities":[]}`, `[]`, `not json`, `{}`} {
		if _, err := DecodeReport(strings.NewReader(bad)); err == nil {
			t.Errorf("DecodeReport(%s): no error", bad)
		}
	}
	var b bytes.Buffer
	rep := exampleReport(t)
	if err := json.NewEncoder(&b).Encode(rep); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeReport(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Identities) != len(rep.Identities) {
		t.Errorf("%d identities, want %d", len(got.Identities), len(rep.Identities))
	}
}

func TestParseSIEM(t *testing.T) {
	for _, s := range SIEMs {
		if got, err := ParseSIEM(string(s)); err != nil || got != s {
			t.Errorf("ParseSIEM(%s) = %s, %v", s, got, err)
		}
	}
	if _, err := ParseSIEM("elastic"); err == nil {
		t.Error("ParseSIEM(elastic): no error")
	}
}

// TestSplunkCommentsHoldNoQuotes: SPL comments are outsider's text, written
// with no quote or backtick in case a comment is scanned like the search.
func TestSplunkCommentsHoldNoQuotes(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	tri, _ := Triage(Splunk, Options{Indexes: testIndexes})
	fu, _ := FollowUp(Splunk, rep, Options{Indexes: testIndexes})
	re := regexp.MustCompile("(?s)```(.*?)```")
	for _, s := range []string{text(t, tri), text(t, fu)} {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			if strings.ContainsAny(m[1], "\"'`$") {
				t.Errorf("comment holds a quote, backtick or dollar: %q", m[1])
			}
		}
	}
}

// TestSplunkScope: a Splunk search is never unscoped. Without --index or
// --macro (or with both) there is no search, only ErrSplunkScope; names
// outside Splunk's alphabet are refused; every query of both modes starts
// with the scope.
func TestSplunkScope(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	for _, o := range []Options{{}, {Indexes: []string{"o365"}, Macro: "m"}} {
		if _, err := Triage(Splunk, o); !errors.Is(err, ErrSplunkScope) {
			t.Errorf("Triage(Splunk, %+v): %v, want ErrSplunkScope", o, err)
		}
		if _, err := FollowUp(Splunk, rep, o); !errors.Is(err, ErrSplunkScope) {
			t.Errorf("FollowUp(Splunk, %+v): %v, want ErrSplunkScope", o, err)
		}
	}
	for _, bad := range []string{"", "_internal", "-x", "O365", "o365 OR index=main", `o365"`, "a|b", "a`b`"} {
		if _, err := Triage(Splunk, Options{Indexes: []string{bad}}); err == nil {
			t.Errorf("index %q accepted", bad)
		}
	}
	for _, bad := range []string{"", "1m", "m(1)", "m`", "a b", "a-b", "m$x$"} {
		if _, err := Triage(Splunk, Options{Macro: bad}); err == nil {
			t.Errorf("macro %q accepted", bad)
		}
	}
	cases := []struct {
		o    Options
		want string
	}{
		{Options{Indexes: []string{"o365", "azure_aad", "o365", "o365_*"}}, "search (index=azure_aad OR index=o365 OR index=o365_*) (sourcetype="},
		{Options{Macro: "outsider_o365"}, "search `outsider_o365` (sourcetype="},
	}
	for _, c := range cases {
		tri, err := Triage(Splunk, c.o)
		if err != nil {
			t.Fatal(err)
		}
		fu, err := FollowUp(Splunk, rep, c.o)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range []*Set{tri, fu} {
			for _, q := range set.Queries {
				if !strings.HasPrefix(q.Query, c.want) {
					t.Errorf("%s %s: starts %q, want %q", set.Mode, q.Name, q.Query[:min(len(q.Query), 80)], c.want)
				}
				if _, err := lexSPL(q.Query); err != nil {
					t.Errorf("%s %s: %v", set.Mode, q.Name, err)
				}
			}
		}
	}
}

// TestQueryAlone: one query printed alone (--query) or written to a file
// (--out) carries what it answers, the period, how to run it, how to read
// it, the verdict rule and the coverage check, and still lexes; no output
// cites a documentation file the SIEM user does not have.
func TestQueryAlone(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	for _, siem := range SIEMs {
		tri, err := Triage(siem, Options{Indexes: testIndexes})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := FollowUp(siem, rep, Options{Indexes: testIndexes})
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range []*Set{tri, fu} {
			all := text(t, set)
			if strings.Contains(all, "rules.md") {
				t.Errorf("%s %s: the output cites rules.md", siem, set.Mode)
			}
			files, err := Files(set)
			if err != nil {
				t.Fatal(err)
			}
			if siem == Purview {
				if len(files) != 1 || string(files[0].Body) != all || !strings.HasSuffix(files[0].Name, ".ps1") {
					t.Errorf("%s %s: want the whole script as one .ps1 file, got %d files", siem, set.Mode, len(files))
				}
				if err := WriteQuery(io.Discard, set, 0); err == nil {
					t.Errorf("%s: a single step printed alone", siem)
				}
				continue
			}
			if len(files) != len(set.Queries) {
				t.Fatalf("%s %s: %d files for %d queries", siem, set.Mode, len(files), len(set.Queries))
			}
			for i, q := range set.Queries {
				if got := set.Index(q.Name); got != i {
					t.Errorf("%s: Index(%s) = %d, want %d", siem, q.Name, got, i)
				}
				f := files[i]
				ext := map[SIEM]string{Sentinel: ".kql", Defender: ".kql", Splunk: ".spl"}[siem]
				mode := map[Mode]string{ModeTriage: "triage", ModeFollowUp: "followup"}[set.Mode]
				if want := fmt.Sprintf("%s-%s-%d-%s%s", siem, mode, i+1, q.Name, ext); f.Name != want {
					t.Errorf("file name %s, want %s", f.Name, want)
				}
				body := string(f.Body)
				// The Splunk commenter turns apostrophes typographic.
				plain := strings.NewReplacer("\u2019", "'").Replace(body)
				for _, want := range []string{"Answers: ", "Period: ", "How to run: ", "How to read: ",
					"Rule (the first verdict that holds)", "Coverage: signin-only and shared", "unverified", q.Name} {
					if !strings.Contains(plain, want) {
						t.Errorf("%s: no %q in its header", f.Name, want)
					}
				}
				if !strings.HasSuffix(body, strings.TrimRight(q.Query, "\n")+"\n") {
					t.Errorf("%s: does not end with the query", f.Name)
				}
				if _, err := lexFor(siem)(body); err != nil {
					t.Errorf("%s: %v", f.Name, err)
				}
			}
			if set.Index("no-such-query") != -1 {
				t.Error("Index of an unknown name is not -1")
			}
		}
	}
}

// TestReportTimesNotEchoed: the follow-up header names the report's period,
// but only as times outsider parsed; a hostile input.to (here one that
// would close a Splunk comment and start a search) is not repeated.
func TestReportTimesNotEchoed(t *testing.T) {
	rep := readReport(t, filepath.Join("testdata", "report.json"))
	r := *rep
	r.Input.To = "2026-10-03T17:30:00Z``` | delete ```"
	for _, siem := range SIEMs {
		set, err := FollowUp(siem, &r, Options{Indexes: testIndexes})
		if err != nil {
			t.Fatal(err)
		}
		out := text(t, set)
		if strings.Contains(out, "delete") || !strings.Contains(strings.Join(set.Header, " "), "to (unknown); anything later") {
			t.Errorf("%s: the report's input.to is echoed or not replaced:\n%s", siem, out[:600])
		}
		if _, err := lexFor(siem)(out); err != nil {
			t.Errorf("%s: %v", siem, err)
		}
	}
}

// TestOurTenantsNotOutbound: a tenant's Entra sign-in log also holds its own
// users' sign-ins to other tenants, with the other tenant as resource tenant
// (Entra External ID, "Cross-tenant access overview"). Taking every resource
// tenant for ours made a partner's pass-through accounts members, in no
// query's rows; and our users, guests in those rows, read as guests. Our
// tenants come from audit records and from sign-ins at home only, and only
// sign-ins to our tenants classify an account.
func TestOurTenantsNotOutbound(t *testing.T) {
	letStmt := regexp.MustCompile(`(?s)\nlet OurTenants = (.*?);\n`)
	actors := regexp.MustCompile(`(?s)\nlet Actors = SignIns\n(.*?);\n`)
	for _, siem := range []SIEM{Sentinel, Defender} {
		set, err := Triage(siem, Options{FirstParty: goldenFirstParty})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range set.Queries {
			m := letStmt.FindStringSubmatch(q.Query)
			if m == nil {
				t.Fatalf("%s %s: no OurTenants", siem, q.Name)
			}
			if strings.Contains(m[1], "(SignIns | project OurTenant)") ||
				!strings.Contains(m[1], `(SignIns | where Source in ("OfficeActivity", "CloudAppEvents") or ActorTenant == OurTenant | project OurTenant)`) {
				t.Errorf("%s %s: OurTenants takes every sign-in's resource tenant:\n%s", siem, q.Name, m[1])
			}
			a := actors.FindStringSubmatch(q.Query)
			if a == nil || !strings.HasPrefix(strings.TrimSpace(a[1]), "| where isempty(OurTenant) or set_has_element(OurTenants, OurTenant)\n") {
				t.Errorf("%s %s: Actors classifies sign-ins to other tenants too", siem, q.Name)
			}
		}
	}
	set, err := Triage(Sentinel, Options{FirstParty: goldenFirstParty})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(set.Queries[0].Query, `Guest = UserType =~ "guest" or CrossTenantAccessType =~ "b2bCollaboration"`); n != 2 {
		t.Errorf("SigninLogs and AADNonInteractiveUserSignInLogs: b2bCollaboration is a guest (docs/rules.md rule 2) in %d of 2", n)
	}
	spl, err := Triage(Splunk, Options{Indexes: testIndexes, FirstParty: goldenFirstParty})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range spl.Queries {
		for _, bad := range []string{"actor_tenant!=our_tenant", "max(is_signin) as u_signed"} {
			if strings.Contains(q.Query, bad) {
				t.Errorf("splunk %s: %s: a record's own resource tenant decides", q.Name, bad)
			}
		}
		for _, want := range []string{
			`| eval tenant_seen=if(src=="ual" OR (coalesce(actor_tenant, "")!="" AND actor_tenant==our_tenant), our_tenant, null())`,
			"| eventstats values(tenant_seen) as our_tenants\n",
			"| eval s_in=if(is_signin==1 AND into_ours==1, 1, 0)\n",
			"max(s_in) as u_signed",
			`lower('properties.crossTenantAccessType')=="b2bcollaboration"`,
		} {
			if !strings.Contains(q.Query, want) {
				t.Errorf("splunk %s: no %s", q.Name, want)
			}
		}
	}
}

// TestKQLEndExcluded: the period ends before --until, as the header says
// ("end excluded") and as the engine and Splunk's latest= read it; KQL's
// between includes its right end, so a record on the --until second was in
// both of two adjacent periods.
func TestKQLEndExcluded(t *testing.T) {
	until := time.Date(2026, 10, 15, 12, 30, 0, 0, time.UTC)
	for _, siem := range []SIEM{Sentinel, Defender} {
		set, err := Triage(siem, Options{FirstParty: goldenFirstParty, Since: until.AddDate(0, 0, -7), Until: until})
		if err != nil {
			t.Fatal(err)
		}
		if h := strings.Join(set.Header, " "); !strings.Contains(h, "(end excluded)") {
			t.Fatalf("%s: header %q", siem, h)
		}
		col := map[SIEM]string{Sentinel: "TimeGenerated", Defender: "Timestamp"}[siem]
		for _, q := range set.Queries {
			if strings.Contains(q.Query, " between ") {
				t.Errorf("%s %s: between includes End", siem, q.Name)
			}
			if n := strings.Count(q.Query, "| where "+col+" >= Start and "+col+" < End"); n < 3 {
				t.Errorf("%s %s: %d tables read over [Start, End)", siem, q.Name, n)
			}
		}
	}
}

// TestUnknownKeyTenantLowered: an identity with no usable UserId and no
// Actor object id or UserKey is unknown:<its actor tenant> in lower case,
// as the engine writes it, so a follow-up finds it whatever the case the
// record has.
func TestUnknownKeyTenantLowered(t *testing.T) {
	for _, siem := range []SIEM{Sentinel, Defender} {
		set, _ := Triage(siem, Options{FirstParty: goldenFirstParty})
		if !strings.Contains(set.Queries[0].Query, ", 1, Actor), UserKey, tolower(ActorContextId))\n") {
			t.Errorf("%s: ActorKey does not lower the actor tenant", siem)
		}
	}
	set, _ := Triage(Splunk, Options{Indexes: testIndexes, FirstParty: goldenFirstParty})
	if !strings.Contains(set.Queries[0].Query, "UserKey, lower(ActorContextId)))\n") {
		t.Error("splunk: actor_key does not lower the actor tenant")
	}
}

// TestUntilOnly: --until alone means the lookback before it, as the header
// says ("the 30 days before ..."). The start was the lookback before now,
// so an --until in the past gave Start after End: an empty period, no rows,
// read as an all-clear.
func TestUntilOnly(t *testing.T) {
	until := time.Date(2026, 10, 15, 12, 30, 0, 0, time.UTC)
	start := until.AddDate(0, 0, -30)
	want := map[SIEM]string{
		Sentinel: "let Start = datetime(" + start.Format(time.RFC3339) + ");\nlet End = datetime(" + until.Format(time.RFC3339) + ");\n",
		Defender: "let Start = datetime(" + start.Format(time.RFC3339) + ");\nlet End = datetime(" + until.Format(time.RFC3339) + ");\n",
		Splunk:   " earliest=" + strconv.FormatInt(start.Unix(), 10) + " latest=" + strconv.FormatInt(until.Unix(), 10) + "\n",
		Purview:  "$Start = $End.AddDays(-30)\n",
	}
	for _, siem := range SIEMs {
		set, err := Triage(siem, Options{Indexes: testIndexes, FirstParty: goldenFirstParty, Until: until})
		if err != nil {
			t.Fatal(err)
		}
		if h := set.Header[0]; !strings.Contains(h, "the 30 days before 2026-10-15T12:30:00Z") {
			t.Errorf("%s: header %q", siem, h)
		}
		for _, q := range set.Queries {
			if siem == Purview && q.Name != "setup" {
				continue
			}
			if !strings.Contains(q.Query, want[siem]) {
				t.Errorf("%s %s: the period is not the 30 days before --until, want %q in\n%.400s", siem, q.Name, want[siem], q.Query)
			}
		}
	}
}

// TestEntraOutcomeWords: AADNonInteractiveUserSignInLogs documents its
// ResultType as "Success or Failure"; a success read as a failure can
// never make an identity anomalous, so the word counts like code 0, as the
// engine reads the Entra download's Status.
func TestEntraOutcomeWords(t *testing.T) {
	set, err := Triage(Sentinel, Options{FirstParty: goldenFirstParty})
	if err != nil {
		t.Fatal(err)
	}
	q := set.Queries[0].Query
	for _, want := range []string{`case(Code == "0" or Code =~ "success", "success",`, `set_has_element(Interrupts, Code) or Code =~ "interrupted", "interrupted",`} {
		if !strings.Contains(q, want) {
			t.Errorf("EntraOutcome: no %s", want)
		}
	}
}
