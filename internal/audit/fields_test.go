package audit

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"
)

func TestCanonical(t *testing.T) {
	cases := []struct {
		in, want string
		kind     UserKind
	}{
		{"alice@fabrikam.com", "alice@fabrikam.com", UserPlain},
		{"  Alice@Fabrikam.COM ", "alice@fabrikam.com", UserPlain},
		{"alice_fabrikam.com#EXT#@contoso.onmicrosoft.com", "alice@fabrikam.com", UserGuest},
		{"first_last_fabrikam.com#ext#@contoso.onmicrosoft.com", "first_last@fabrikam.com", UserGuest},
		{"urn:spo:guest#alice@fabrikam.com", "alice@fabrikam.com", UserSPOGuest},
		{"i:0#.f|membership|alice@fabrikam.com", "alice@fabrikam.com", UserPlain},
		{"i:0#.f|membership|alice_fabrikam.com#ext#@contoso.onmicrosoft.com", "alice@fabrikam.com", UserGuest},
		{"i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint", "app@sharepoint", UserPlain},
		{"urn:spo:anon#a1b2c3", "urn:spo:anon#a1b2c3", UserAnonymous},
		{"Anonymous", "anonymous", UserAnonymous},
		{"Not Available", "", UserUnusable},
		{"Unknown", "", UserUnusable},
		{"", "", UserUnusable},
		{"urn:spo:guest#", "", UserUnusable},
		{"ÉLODIE@exemple.fr", "élodie@exemple.fr", UserPlain},
		{"SHAREPOINT\\system", "sharepoint\\system", UserPlain},
	}
	for _, c := range cases {
		got, kind, _ := Canonical([]byte(c.in), nil)
		if string(got) != c.want || kind != c.kind {
			t.Errorf("Canonical(%q) = %q, %v; want %q, %v", c.in, got, kind, c.want, c.kind)
		}
	}
}

func TestParseIP(t *testing.T) {
	cases := []struct{ in, want string }{
		{"83.57.233.151", "83.57.233.151"},
		{"10.11.12.13:12345", "10.11.12.13"},
		{"[10.11.12.13]:12345", "10.11.12.13"},
		{"[10.11.12.13]", "10.11.12.13"},
		{"::ffff:10.11.12.13", "10.11.12.13"},
		{"[::ffff:10.11.12.13]:12345", "10.11.12.13"},
		{"[2001:db8::abcd]:12345", "2001:db8::abcd"},
		{"[2001:db8::abcd]", "2001:db8::abcd"},
		{"2001:DB8::ABCD", "2001:db8::abcd"},
		{"2001:0db8:0000:0000:0000:0000:0000:abcd", "2001:db8::abcd"},
		{"fe80::1%eth0", "fe80::1"},
		{" 192.0.2.1 ", "192.0.2.1"},
		{"localhost", ""},
		{"[localhost]:12345", ""},
		{"localhost:12345", ""},
		{"", ""},
		{"[", ""},
		{"[]", ""},
		{"1.2.3", ""},
		{"999.1.1.1", ""},
	}
	for _, c := range cases {
		a, ok := ParseIP([]byte(c.in))
		got := ""
		if ok {
			got = a.String()
		}
		if got != c.want {
			t.Errorf("ParseIP(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	ref := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2020-02-10T15:13:13", ref("2020-02-10T15:13:13Z"), true},
		{"2020-02-10T15:13:13Z", ref("2020-02-10T15:13:13Z"), true},
		{"2020-02-10T15:13:13.1234567", ref("2020-02-10T15:13:13.1234567Z"), true},
		{"2020-02-10T15:13:13.123456789Z", ref("2020-02-10T15:13:13.123456789Z"), true},
		{"2020-02-10T15:13:13+02:00", ref("2020-02-10T13:13:13Z"), true},
		{"2020-02-10T15:13:13-05:30", ref("2020-02-10T20:43:13Z"), true},
		{"2024-02-29T00:00:00", ref("2024-02-29T00:00:00Z"), true},
		{"1969-12-31T23:59:59", ref("1969-12-31T23:59:59Z"), true},
		{"/Date(1728364117000)/", ref("2024-10-08T05:08:37Z"), true},
		{"/Date(1728364117000+0200)/", ref("2024-10-08T05:08:37Z"), true},
		{"2023-02-29T00:00:00", 0, false},
		{"2020-02-10", 0, false},
		{"2020-02-10T15:13:13.", 0, false},
		{"2020-02-10T15:13:13 UTC", 0, false},
		{"/Date()/", 0, false},
		{"/Date(abc)/", 0, false},
		{"9/20/2023 4:05:03 AM", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseTime([]byte(c.in))
		if ok != c.ok || got != c.want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestOutcome(t *testing.T) {
	cases := []struct {
		op, errNo, logonErr, detail string
		want                        Outcome
	}{
		{"UserLoggedIn", "", "", "Success", Success},
		{"UserLoggedIn", "0", "", "", Success},
		{"UserLoggedIn", "", "", "Redirect", Interrupted},
		{"UserLoggedIn", "50140", "", "Success", Interrupted},
		{"UserLoggedIn", "50126", "", "", Failure},
		{"UserLoggedIn", "", "InvalidUserNameOrPassword", "", Failure},
		{"UserLoggedIn", "", "", "UserError", Failure},
		{"UserLoginFailed", "0", "", "Success", Failure},
		{"FileAccessed", "", "", "", NotSignin},
	}
	for _, c := range cases {
		ev := Event{Operation: []byte(c.op), ErrorNumber: []byte(c.errNo), LogonError: []byte(c.logonErr), ResultStatusDetail: []byte(c.detail)}
		if got := ev.Outcome(); got != c.want {
			t.Errorf("%+v: got %v, want %v", c, got, c.want)
		}
	}
}

func TestCategorize(t *testing.T) {
	cases := []struct {
		op, wl, target string
		rt             int
		want           Category
	}{
		{"FileAccessed", "SharePoint", "", 6, CatAccess},
		{"FileAccessed", "Exchange", "", 6, 0},
		{"AnonymousLinkUsed", "OneDrive", "", 14, CatAccess | CatAnonLinkUsed},
		{"SharingInvitationCreated", "SharePoint", "x@y.com", 14, CatSharing},
		{"SharingInvitationCreated", "SharePoint", "", 14, 0},
		{"MailItemsAccessed", "Exchange", "", 50, CatMailbox},
		{"Send", "Exchange", "", 2, CatMailbox},
		{"New-InboxRule", "Exchange", "", 1, CatAdmin},
		{"Add member to role.", "AzureActiveDirectory", "", 8, CatAdmin},
		{"FileModified", "SharePoint", "", 6, 0},
	}
	for _, c := range cases {
		ev := Event{Operation: []byte(c.op), Workload: []byte(c.wl), Target: []byte(c.target), RecordType: c.rt}
		if got := ev.Categorize(); got != c.want {
			t.Errorf("%+v: got %05b, want %05b", c, got, c.want)
		}
	}
}

// FuzzLower: the word-at-a-time lowering and its check agree with a byte
// loop (ASCII) and bytes.ToLower (the rest), on any input.
func FuzzLower(f *testing.F) {
	for _, s := range []string{"", "ABCDEFGH", "Alice@Fabrikam.COM", "@[`{AZaz", "71FAFC2A-F5B7-42C6-9867-A8F36DAE0300", "ÉCOLE@x.fr", "abcdefghIJKLMNOP\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := make([]byte, 0, len(b))
		lower := true
		for i, c := range b {
			if c >= 0x80 {
				want = append(want, bytes.ToLower(b[i:])...)
				lower = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
				lower = false
			}
			want = append(want, c)
		}
		if got := appendLower([]byte("x"), b); string(got) != "x"+string(want) {
			t.Fatalf("appendLower(%q) = %q, want %q", b, got[1:], want)
		}
		if isLower(b) != lower {
			t.Fatalf("isLower(%q) = %v, want %v", b, !lower, lower)
		}
	})
}

// FuzzParseIP: the IPv4 fast path agrees with the general path on every
// input it accepts.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "255.255.255.255", "0.0.0.0", "01.2.3.4", "1.2.3.256",
		"1.2.3", "1.2.3.4.5", "1..3.4", "1.2.3.4:80", " 1.2.3.4", "::ffff:1.2.3.4", "999.1.1.1", "10.0.0.00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseIPv4(b)
		slow, sok := parseIP(b)
		if ok && (!sok || fast != slow) {
			t.Fatalf("%q: fast path %v, general path %v (%v)", b, fast, slow, sok)
		}
		if got, gok := ParseIP(b); gok != sok || got != slow {
			t.Fatalf("%q: ParseIP %v %v, general path %v %v", b, got, gok, slow, sok)
		}
	})
}

// TestIsGUIDMatchesRegexp holds the table-driven isGUID to the pattern on
// random strings that are mostly GUID-shaped.
func TestIsGUIDMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	r := rand.New(rand.NewPCG(21, 22))
	alphabet := []byte("0123456789abcdefABCDEF-gG/:@`\x00\xff")
	valid := 0
	for range 100000 {
		b := []byte("71fafc2a-f5b7-42c6-9867-a8f36dae0300")
		for range 1 + r.IntN(3) {
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		}
		if r.IntN(20) == 0 {
			b = b[:r.IntN(len(b))]
		}
		want := re.Match(b)
		if want {
			valid++
		}
		if got := isGUID(b); got != want {
			t.Fatalf("isGUID(%q) = %v, want %v", b, got, want)
		}
	}
	if valid < 1000 {
		t.Fatalf("only %d valid GUIDs generated", valid)
	}
}
