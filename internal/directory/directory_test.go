package directory

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// mustLoad loads testdata/name and fails on an error.
func mustLoad(t *testing.T, name string) (*Directory, []Problem) {
	t.Helper()
	d, problems, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return d, problems
}

// TestFormats: every well-formed export reads whole, without problems
// (but the single page, which is missing the pages after it).
func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		file     string
		n        int
		problems int
	}{
		{"graph-page.json", 5, 1},
		{"graph-pages.json", 4, 0},
		{"users-array.json", 2, 0},
		{"users.jsonl", 3, 0},
		{"users-utf16le.json", 2, 0},
		{"portal-users.csv", 4, 0},
		{"portal-users-labels.csv", 2, 0},
		{"m365-active-users.csv", 2, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d, problems := mustLoad(t, tc.file)
			if d.Len() != tc.n {
				t.Errorf("Len = %d, want %d", d.Len(), tc.n)
			}
			if len(problems) != tc.problems {
				t.Errorf("problems = %v, want %d", problems, tc.problems)
			}
		})
	}
}

// TestNextLinkWarns: a file whose last page links to another is missing
// pages, and an account absent from it may be on one of them.
func TestNextLinkWarns(t *testing.T) {
	_, problems := mustLoad(t, "graph-page.json")
	if len(problems) != 1 || problems[0].Line != 1 || !strings.Contains(problems[0].Reason, "@odata.nextLink") {
		t.Fatalf("problems = %v, want one about @odata.nextLink at line 1", problems)
	}
	// Two pages, the last without a nextLink: complete, no warning.
	if _, problems := mustLoad(t, "graph-pages.json"); len(problems) != 0 {
		t.Errorf("graph-pages.json: %v", problems)
	}
}

func TestLookup(t *testing.T) {
	page, _ := mustLoad(t, "graph-page.json")
	pages, _ := mustLoad(t, "graph-pages.json")
	lines, _ := mustLoad(t, "users.jsonl")
	portal, _ := mustLoad(t, "portal-users.csv")
	utf16, _ := mustLoad(t, "users-utf16le.json")
	array, _ := mustLoad(t, "users-array.json")
	m365, _ := mustLoad(t, "m365-active-users.csv")
	for _, tc := range []struct {
		name  string
		d     *Directory
		user  string
		upn   string // "" when the user must not be found
		by    MatchedBy
		guest bool
	}{
		{"member by UPN", page, "alice@contoso.com", "alice@contoso.com", ByUPN, false},
		{"member by mail", page, "alice.smith@contoso.com", "alice@contoso.com", ByMail, false},
		{"member by smtp alias", page, "alice@contoso.onmicrosoft.com", "alice@contoso.com", ByProxyAddresses, false},
		{"SIP address is not mail", page, "sip:alice@contoso.com", "", "", false},
		{"B2B guest by its #EXT# UPN", page, "bob@fabrikam.com", "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", ByGuestUPN, true},
		{"B2B guest by mail", page, "bob.brown@fabrikam.com", "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", ByMail, true},
		{"raw #EXT# UPN is canonicalised", page, "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", ByGuestUPN, true},
		{"SharePoint guest form", page, "urn:spo:guest#bob@fabrikam.com", "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", ByGuestUPN, true},
		{"guest by otherMails", page, "cjones@northwindtraders.com", "carol.jones_northwindtraders.com#EXT#@contoso.onmicrosoft.com", ByOtherMails, true},
		{"federated identity of an external issuer", page, "daniel.ortiz@litware.com", "dan_litware.com#EXT#@contoso.onmicrosoft.com", ByIdentities, true},
		{"outsider absent", page, "mallory@evil.example", "", "", false},
		{"outsider absent, same domain as a guest", page, "eve@fabrikam.com", "", "", false},
		{"unusable name", page, "Unknown", "", "", false},
		{"empty name", page, "", "", "", false},
		{"anonymous link user", page, "urn:spo:anon#0123456789abcdef", "", "", false},
		{"case-insensitive UPN", page, "ALICE@Contoso.COM", "alice@contoso.com", ByUPN, false},
		{"case-insensitive guest UPN", page, "Bob_Fabrikam.com#ext#@CONTOSO.onmicrosoft.com", "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", ByGuestUPN, true},
		{"case-insensitive mail (stored mixed-case)", page, "BOB.BROWN@fabrikam.com", "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", ByMail, true},
		{"second page", pages, "grace.h@gmail.com", "grace.h_gmail.com#EXT#@contoso.onmicrosoft.com", ByGuestUPN, true},
		{"opaque issuer id is not indexed", pages, "109876543210987654321", "", "", false},
		{"pending guest by otherMails", lines, "m.ross@fourthcoffee.com", "mike_fourthcoffee.com#EXT#@contoso.onmicrosoft.com", ByOtherMails, true},
		{"local account by its email identity", lines, "nina@woodgrovebank.com", "b5c6d7e8f9a041b2c3d4e5f6a7b8c9d0@contoso.onmicrosoft.com", ByIdentities, false},
		{"portal CSV member", portal, "quinn@contoso.com", "quinn@contoso.com", ByUPN, false},
		{"portal CSV guest", portal, "rita.moreno@fabrikam.com", "rita.moreno_fabrikam.com#EXT#@contoso.onmicrosoft.com", ByGuestUPN, true},
		{"portal CSV alternate email", portal, "samtaylor@hotmail.com", "sam.t_outlook.com#EXT#@contoso.onmicrosoft.com", ByOtherMails, true},
		{"UTF-16 guest", utf16, "peter.novak@wingtiptoys.com", "peter.novak_wingtiptoys.com#EXT#@contoso.onmicrosoft.com", ByGuestUPN, true},
		{"PascalCase JSON", array, "judy.chen@contoso.com", "judy@contoso.com", ByMail, false},
		{"M365 proxy joined with +", m365, "wendy+news@contoso.com", "wendy@contoso.com", ByProxyAddresses, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, by, ok := tc.d.Lookup(tc.user)
			if tc.upn == "" {
				if ok {
					t.Fatalf("Lookup(%q) = %s by %s, want not found", tc.user, e.UPN, by)
				}
				return
			}
			if !ok {
				t.Fatalf("Lookup(%q): not found, want %s", tc.user, tc.upn)
			}
			if e.UPN != tc.upn || by != tc.by {
				t.Errorf("Lookup(%q) = %s by %s, want %s by %s", tc.user, e.UPN, by, tc.upn, tc.by)
			}
			if e.IsGuest() != tc.guest {
				t.Errorf("IsGuest = %v, want %v", e.IsGuest(), tc.guest)
			}
		})
	}
}

// TestLookupReturnsCopy: an entry handed out cannot change the directory.
func TestLookupReturnsCopy(t *testing.T) {
	d, _ := mustLoad(t, "graph-page.json")
	e, _, _ := d.Lookup("bob@fabrikam.com")
	e.OtherMails[0] = "changed@example.com"
	*e.Enabled = false
	e.Identities[0].IssuerAssignedID = "changed"
	again, _, _ := d.Lookup("bob@fabrikam.com")
	if again.OtherMails[0] != "bob@fabrikam.com" || !*again.Enabled || again.Identities[0].IssuerAssignedID == "changed" {
		t.Fatalf("directory changed through a looked-up entry: %+v", again)
	}
}

// TestLookupDeterministic: when several entries claim an address, the
// strongest field wins, then the smallest id, whatever the file's order.
func TestLookupDeterministic(t *testing.T) {
	a := `{"id":"bbbb","userPrincipalName":"shared.mailbox@contoso.com","mail":"team@contoso.com"}`
	b := `{"id":"AAAA","userPrincipalName":"other@contoso.com","mail":"team@contoso.com"}`
	c := `{"id":"0000","userPrincipalName":"alias.holder@contoso.com","otherMails":["team@contoso.com","shared.mailbox@contoso.com"]}`
	for _, order := range [][]string{{a, b, c}, {c, b, a}, {b, c, a}} {
		d, problems, err := load("mem.jsonl", []byte(strings.Join(order, "\n")))
		if err != nil || len(problems) != 0 {
			t.Fatalf("load: %v %v", err, problems)
		}
		// mail on two entries (otherMails on a third, weaker): smallest id.
		if e, by, _ := d.Lookup("team@contoso.com"); e.ID != "AAAA" || by != ByMail {
			t.Errorf("order %d: team@ = %s by %s, want AAAA by mail", len(order), e.ID, by)
		}
		// UPN of one entry beats otherMails of another with a smaller id.
		if e, by, _ := d.Lookup("shared.mailbox@contoso.com"); e.ID != "bbbb" || by != ByUPN {
			t.Errorf("shared.mailbox@ = %s by %s, want bbbb by upn", e.ID, by)
		}
	}
}

// TestDuplicatesDropped: overlapping exports list accounts twice; the
// first copy is kept.
func TestDuplicatesDropped(t *testing.T) {
	a := `{"id":"1","userPrincipalName":"a@contoso.com","mail":"first@contoso.com"}`
	a2 := `{"id":"1","userPrincipalName":"a@contoso.com","mail":"second@contoso.com"}`
	d, _, err := load("mem.jsonl", []byte(a+"\n"+a2+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 1 {
		t.Fatalf("Len = %d, want 1", d.Len())
	}
	if _, _, ok := d.Lookup("second@contoso.com"); ok {
		t.Error("the second copy was indexed")
	}
}

func TestIsGuest(t *testing.T) {
	for _, tc := range []struct {
		e    Entry
		want bool
	}{
		{Entry{UPN: "alice@contoso.com", UserType: "Member"}, false},
		{Entry{UPN: "alice@contoso.com"}, false},
		{Entry{UPN: "bob@contoso.com", UserType: "guest"}, true},
		{Entry{UPN: "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", UserType: "Member"}, true},
		{Entry{UPN: "x@contoso.onmicrosoft.com", CreationType: "invitation"}, true},
		{Entry{UPN: "x@contoso.onmicrosoft.com", CreationType: "LocalAccount"}, false},
	} {
		if got := tc.e.IsGuest(); got != tc.want {
			t.Errorf("%+v.IsGuest() = %v, want %v", tc.e, got, tc.want)
		}
	}
}

// TestBadInput: each kind of damage gives a Problem naming the file and
// the line, or, when nothing is readable, an error naming the file.
func TestBadInput(t *testing.T) {
	type want struct {
		line   int
		reason string
	}
	for _, tc := range []struct {
		file     string
		n        int    // entries read anyway
		err      string // substring of the error, when nothing is readable
		problems []want
	}{
		{file: "bad-truncated.json", n: 3, problems: []want{{83, "truncated JSON"}}},
		{file: "bad-truncated.jsonl", n: 2, problems: []want{{2, "malformed JSON at line 2"}}},
		// A damaged element of a pretty-printed page costs that element:
		// reading resumes at the next element, found by its indentation.
		{file: "bad-element.json", n: 4, problems: []want{{28, "malformed JSON at line 40"}}},
		{file: "bad-types.jsonl", n: 4, problems: []want{
			{2, "otherMails is a string, not an array of strings"},
			{3, "mail is an array"},
			{3, "userType is a number"},
			{3, "identities is an object"},
			{3, "accountEnabled is a string"},
			{4, "userPrincipalName is a number"},
			{5, "a number, not a user object"},
			{6, "proxyAddresses[1] is a number"},
			{6, "proxyAddresses[2] is null"},
			{6, "identities[0].issuerAssignedId is a number"},
			{6, "identities[1] is a string"},
			{7, "a Graph error response"},
		}},
		{file: "bad-no-upn.json", n: 1, problems: []want{
			{8, "without a userPrincipalName"},
			{14, "without a userPrincipalName"},
		}},
		{file: "bad-quote.csv", n: 5, problems: []want{
			{3, "unbalanced quote"},
			{5, "unbalanced quote"},
			{8, "7 fields where the header has 6"},
			{10, "unbalanced quote"},
		}},
		{file: "bad-empty.json", err: "empty file"},
		{file: "bad-garbage.bin", err: "binary data"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			d, problems, err := Load(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s and saying %q", err, path, tc.err)
				}
				if d != nil {
					t.Error("a directory came with the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != tc.n {
				t.Errorf("Len = %d, want %d", d.Len(), tc.n)
			}
			if len(problems) != len(tc.problems) {
				t.Errorf("%d problems, want %d: %v", len(problems), len(tc.problems), problems)
			}
			for i, p := range problems {
				if p.Path != path {
					t.Errorf("problem %d names %q, not %q", i, p.Path, path)
				}
				if i < len(tc.problems) && (p.Line != tc.problems[i].line || !strings.Contains(p.Reason, tc.problems[i].reason)) {
					t.Errorf("problem %d = %v, want line %d: …%s…", i, p, tc.problems[i].line, tc.problems[i].reason)
				}
			}
		})
	}
}

// TestBadTypesKeepAccount: a field of the wrong type costs that field,
// not the account: Zoe's otherMails is garbled, but she is still our guest.
func TestBadTypesKeepAccount(t *testing.T) {
	d, _ := mustLoad(t, "bad-types.jsonl")
	e, by, ok := d.Lookup("zoe@tailspintoys.com")
	if !ok || by != ByGuestUPN || !e.IsGuest() || len(e.OtherMails) != 0 {
		t.Fatalf("zoe = %+v by %s (found %v)", e, by, ok)
	}
	if _, _, ok := d.Lookup("number@contoso.com"); ok {
		t.Error("the record with a numeric UPN was kept")
	}
}

// TestEdgeInputs covers encodings and framings the testdata files do not.
func TestEdgeInputs(t *testing.T) {
	user := `{"userPrincipalName":"a@contoso.com","mail":"b@contoso.com"}`
	utf16 := func(s string, be bool) []byte {
		out := []byte{0xFF, 0xFE}
		if be {
			out = []byte{0xFE, 0xFF}
		}
		for _, r := range s { // ASCII only here
			if be {
				out = append(out, 0, byte(r))
			} else {
				out = append(out, byte(r), 0)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		n        int
		problems int
		err      string
	}{
		{"UTF-16BE with BOM", utf16(`{"value":[`+user+`]}`, true), 1, 0, ""},
		{"UTF-16LE odd trailing byte", append(utf16(user+"\r\n", false), 'x'), 1, 1, ""},
		{"pages concatenated without a newline", []byte(`{"value":[` + user + `],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=x"}{"value":[{"userPrincipalName":"c@contoso.com"}]}`), 2, 0, ""},
		{"pages one per line", []byte(`{"value":[` + user + `]}` + "\n" + `{"value":[{"userPrincipalName":"c@contoso.com"}]}` + "\n"), 2, 0, ""},
		{"array of pages", []byte(`[{"value":[` + user + `]},{"value":[{"userPrincipalName":"c@contoso.com"}]}]`), 2, 0, ""},
		{"arrays concatenated", []byte(`[` + user + "]\n[" + `{"userPrincipalName":"c@contoso.com"}]`), 2, 0, ""},
		{"cat of two files with BOMs", []byte("\uFEFF" + user + "\n\uFEFF" + `{"userPrincipalName":"c@contoso.com"}`), 2, 0, ""},
		{"value null with nextLink", []byte(`{"value":null,"@odata.nextLink":"x"}` + "\n" + user), 1, 0, ""},
		{"value not an array", []byte(`{"value":"x"}` + "\n" + user), 1, 1, ""},
		{"whitespace only", []byte(" \r\n\t\n"), 0, 0, "nothing but white space"},
		{"BOM only", []byte("\uFEFF"), 0, 0, "nothing but white space"},
		{"empty page", []byte(`{"@odata.context":"x","value":[]}`), 0, 0, "no user record could be read"},
		{"JSON scalar", []byte(`"users"`), 0, 0, "no header row names a userPrincipalName column"},
		{"JSON scalars", []byte("[1]\n\"x\""), 0, 2, "no user record could be read"},
		{"UPN not an address", []byte(`{"userPrincipalName":"admin"}` + "\n" + user), 1, 1, ""},
		{"garbage text", []byte("lorem ipsum dolor\nsit amet"), 0, 0, "no header row names a userPrincipalName column"},
		{"garbage starting like JSON", []byte("{{{{\n[[[\n{\"a\"\n"), 0, 3, "no user record could be read"},
		{"gzip", []byte{0x1f, 0x8b, 8, 0}, 0, 0, "gzip"},
		{"xlsx", []byte("PK\x03\x04rest"), 0, 0, "zip archive"},
		{"CSV header only", []byte("userPrincipalName,mail\r\n"), 0, 0, "no user record could be read"},
		{"CSV with #TYPE line", []byte("#TYPE Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser\r\n\"Id\",\"UserPrincipalName\",\"Mail\",\"OtherMails\"\r\n\"1\",\"a@contoso.com\",\"b@contoso.com\",\"System.String[]\"\r\n"), 1, 0, ""},
		{"CSV tab separated", []byte("userPrincipalName\tmail\na@contoso.com\tb@contoso.com\n"), 1, 0, ""},
		{"CSV header repeated", []byte("userPrincipalName,mail\na@contoso.com,b@contoso.com\nuserPrincipalName,mail\nc@contoso.com,d@contoso.com\n"), 2, 0, ""},
		{"CSV short row kept", []byte("userPrincipalName,mail,userType\na@contoso.com,b@contoso.com\n"), 1, 1, ""},
		{"CSV no UPN value", []byte("userPrincipalName,mail\n,b@contoso.com\nc@contoso.com,\n"), 1, 1, ""},
		{"CSV bad boolean", []byte("userPrincipalName,accountEnabled\na@contoso.com,maybe\n"), 1, 1, ""},
		{"CSV quoted field over two lines", []byte("userPrincipalName,displayName\n\"a@contoso.com\",\"A\nB\"\nc@contoso.com,C\n"), 1, 2, ""},
		{"CSV UPN not an address", []byte("userPrincipalName,displayName\nadmin,Admin\nc@contoso.com,C\n"), 1, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, problems, err := load("mem", tc.data)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "mem: ") {
					t.Fatalf("err = %v, want mem: …%s…", err, tc.err)
				}
			} else if err != nil {
				t.Fatalf("err = %v (problems %v)", err, problems)
			}
			if d.Len() != tc.n {
				t.Errorf("Len = %d, want %d", d.Len(), tc.n)
			}
			if len(problems) != tc.problems {
				t.Errorf("problems = %v, want %d", problems, tc.problems)
			}
		})
	}
}

// TestJSONErrorLines: problems cite the record's first line and the line
// of the first invalid byte, whichever decoder step found it, and reading
// resumes as close after it as possible.
func TestJSONErrorLines(t *testing.T) {
	u := func(n int) string { return fmt.Sprintf(`{"userPrincipalName":"u%d@contoso.com"}`, n) }
	for _, tc := range []struct {
		name   string
		data   string
		n      int
		line   int
		reason string
	}{
		{"missing comma between elements", "[\n" + u(1) + "\n" + u(2) + ",\n" + u(3) + "\n]", 3, 3,
			"malformed JSON at line 3: expected comma after array element; reading resumes at line 3"},
		{"missing comma inside an element", "[\n  " + u(1) + ",\n  {\"userPrincipalName\":\"x@contoso.com\"\n   \"mail\":\"y\"},\n  " + u(3) + "\n]", 2, 3,
			"malformed JSON at line 4: invalid character '\"' after object key:value pair (record skipped); reading resumes at line 5"},
		{"garbage after a page", `{"value":[` + u(1) + "]}\nxyz\n" + u(2), 2, 2,
			"malformed JSON at line 2: invalid character 'x' looking for beginning of value (record skipped); reading resumes at line 3"},
		{"bad key in page", `{"value":[` + u(1) + `],nope}` + "\n" + u(2), 2, 1,
			"malformed JSON at line 1: invalid character 'n' looking for beginning of object key string (record skipped); reading resumes at line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, problems, err := load("mem", []byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != tc.n {
				t.Errorf("Len = %d, want %d", d.Len(), tc.n)
			}
			if len(problems) != 1 || problems[0].Line != tc.line || problems[0].Reason != tc.reason {
				t.Errorf("problems = %q, want line %d: %s", problems, tc.line, tc.reason)
			}
		})
	}
}

// TestCSVBlockCredential: the Microsoft 365 admin center says "Block
// credential", the opposite of accountEnabled.
func TestCSVBlockCredential(t *testing.T) {
	d, _ := mustLoad(t, "m365-active-users.csv")
	for user, enabled := range map[string]bool{"admin@contoso.onmicrosoft.com": true, "wendy@contoso.com": false} {
		e, _, ok := d.Lookup(user)
		if !ok || e.Enabled == nil || *e.Enabled != enabled {
			t.Errorf("%s: Enabled = %v, want %v", user, e.Enabled, enabled)
		}
	}
}

func TestSplitList(t *testing.T) {
	got := splitList("SMTP:a@x.com+smtp:b+tag@x.com; smtp:c@x.com,X500:/o=Org+SIP:d@x.com", true)
	want := []string{"SMTP:a@x.com", "smtp:b+tag@x.com", "smtp:c@x.com", "X500:/o=Org", "SIP:d@x.com"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("splitList = %q, want %q", got, want)
	}
	if got := splitList("System.String[]", false); len(got) != 0 {
		t.Errorf("PowerShell placeholder kept: %q", got)
	}
}

func TestSMTPAddress(t *testing.T) {
	for in, want := range map[string]string{
		"SMTP:bob@contoso.com":   "bob@contoso.com",
		"smtp: bob@contoso.com":  "bob@contoso.com", // Graph's documented example has the space
		"bob@contoso.com":        "bob@contoso.com",
		"SIP:bob@contoso.com":    "",
		"X500:/o=ExchangeLabs/x": "",
		"smtp:":                  "",
	} {
		got, ok := smtpAddress(in)
		if got != want || ok != (want != "") {
			t.Errorf("smtpAddress(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestNormHeader(t *testing.T) {
	for in, want := range map[string]string{
		"User principal name":                        "userprincipalname",
		"\uFEFFuserPrincipalName":                    "userprincipalname",
		"Object Id":                                  "objectid",
		"User name [userPrincipalName] Required":     "userprincipalname",
		"Email address to invite [inviteeEmail] Req": "inviteeemail",
	} {
		if got := normHeader(in); got != want {
			t.Errorf("normHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProblemString(t *testing.T) {
	if s := (Problem{Path: "u.json", Line: 3, Reason: "x"}).String(); s != "u.json: line 3: x" {
		t.Error(s)
	}
	if s := (Problem{Path: "u.json", Reason: "x"}).String(); s != "u.json: x" {
		t.Error(s)
	}
}

func TestNilDirectory(t *testing.T) {
	var d *Directory
	if d.Len() != 0 {
		t.Error("Len of nil")
	}
	if _, _, ok := d.Lookup("a@contoso.com"); ok {
		t.Error("Lookup in nil")
	}
}

func TestMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join("testdata", "no-such-file.json"))
	if err == nil || !strings.Contains(err.Error(), "no-such-file.json") {
		t.Fatalf("err = %v", err)
	}
}

// TestProblemCap: a file of nothing but bad records is not allowed to
// produce an unbounded list.
func TestProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"userPrincipalName":"a@contoso.com"}` + "\n")
	for range maxProblems + 50 {
		b.WriteString("{\"mail\":\"x@contoso.com\"}\n")
	}
	_, problems, err := load("mem", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != maxProblems+1 || !strings.Contains(problems[maxProblems].Reason, "50 more problems") {
		t.Fatalf("%d problems, last %v", len(problems), problems[len(problems)-1])
	}
}
