package hunt

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// hostile are values a report could carry to break out of a query: every
// quote and escape character of the three languages, comment and macro
// markers, command separators, line breaks, Unicode quotes PowerShell
// accepts, bidi and zero-width format characters, invalid UTF-8 and NUL.
var hostile = []string{
	``,
	`"`,
	`'`,
	`\`,
	`\\"`,
	`a" or 1==1 //`,
	`x' | where 1==1 //`,
	"alice@fabrikam.com\" | project secret //",
	"line\nbreak",
	"cr\rlf\r\n",
	"tab\there",
	"nul\x00byte",
	"esc\x1b[31mred",
	"$(calc.exe)",
	"`whoami`",
	"$env:USERPROFILE",
	"${x}",
	"';Remove-Item -Recurse C:\\ #",
	"\u2018; calc; \u2019",
	"\u201b\u201a",
	"\u201cdouble\u201d",
	"```comment``` | delete",
	"`macro(x)`",
	"$token$",
	"[search index=* | head 1]",
	"* OR user=*",
	"%2522",
	"a+b c",
	"|",
	"@\"verbatim\"",
	"h\"obfuscated\"",
	"```",
	"\u202egnp.exe",
	"zero\u200bwidth",
	"line\u2028sep",
	"emoji 😀",
	"ünïcödé@bücher.example",
	"名前@例え.jp",
	"\xff\xfe invalid",
	strings.Repeat(`"'\`, 200),
	"alice_fabrikam.com#EXT#@contoso.onmicrosoft.com",
	"i:0#.f|membership|bob@contoso.com",
}

func TestQuoteReadable(t *testing.T) {
	// Ordinary values stay readable in every language.
	for _, tc := range []struct{ in, kql, spl, ps string }{
		{"alice@fabrikam.com", `"alice@fabrikam.com"`, `"alice@fabrikam.com"`, `'alice@fabrikam.com'`},
		{"203.0.113.7", `"203.0.113.7"`, `"203.0.113.7"`, `'203.0.113.7'`},
		{"2001:db8::1", `"2001:db8::1"`, `"2001:db8::1"`, `'2001:db8::1'`},
		{"unknown:3f2504e0-4f89-41d3-9a0c-0305e82c3301", `"unknown:3f2504e0-4f89-41d3-9a0c-0305e82c3301"`, `"unknown:3f2504e0-4f89-41d3-9a0c-0305e82c3301"`, `'unknown:3f2504e0-4f89-41d3-9a0c-0305e82c3301'`},
		{"o'brien@example.com", `"o'brien@example.com"`, `urldecode("o%27brien%40example.com")`, `'o''brien@example.com'`},
		{`a"b\c`, `"a\"b\\c"`, `urldecode("a%22b%5Cc")`, `'a"b\c'`},
	} {
		if got := QuoteKQL(tc.in); got != tc.kql {
			t.Errorf("QuoteKQL(%q) = %s, want %s", tc.in, got, tc.kql)
		}
		if got := QuoteSPL(tc.in); got != tc.spl {
			t.Errorf("QuoteSPL(%q) = %s, want %s", tc.in, got, tc.spl)
		}
		if got := QuotePowerShell(tc.in); got != tc.ps {
			t.Errorf("QuotePowerShell(%q) = %s, want %s", tc.in, got, tc.ps)
		}
	}
}

// roundTrip checks that quote(v), read by the language's lexer, is one
// literal (the skeleton is exactly "S") whose value is v.
func roundTrip(t *testing.T, lang string, quote func(string) string, lex func(string) (lexed, error), v string) {
	t.Helper()
	q := quote(v)
	l, err := lex(q)
	if err != nil {
		t.Errorf("%s(%q) = %s: %v", lang, v, q, err)
		return
	}
	if l.skeleton != "S" || len(l.values) != 1 {
		t.Errorf("%s(%q) = %s: read as %q with %d literals, want one literal", lang, v, q, l.skeleton, len(l.values))
		return
	}
	if l.values[0] != v {
		t.Errorf("%s(%q) = %s: reads back as %q", lang, v, q, l.values[0])
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, v := range hostile {
		roundTrip(t, "QuoteKQL", QuoteKQL, lexKQL, v)
		roundTrip(t, "QuoteSPL", QuoteSPL, lexSPL, v)
		roundTrip(t, "QuotePowerShell", QuotePowerShell, lexPS, v)
	}
}

// TestQuoteRoundTripRandom feeds random strings drawn mostly from the
// characters that matter.
func TestQuoteRoundTripRandom(t *testing.T) {
	alphabet := []rune("aZ09 .@_-:#/\"'\\`$|*()[]{}%+;,\n\r\t\x00\x1b\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u202e\u2028\u00e9\U0001F600")
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for k := r.IntN(12); k > 0; k-- {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		v := b.String()
		roundTrip(t, "QuoteKQL", QuoteKQL, lexKQL, v)
		roundTrip(t, "QuoteSPL", QuoteSPL, lexSPL, v)
		roundTrip(t, "QuotePowerShell", QuotePowerShell, lexPS, v)
	}
}

// TestQuoteInContext embeds each quoted hostile value in a small query of
// each language and checks that the text around it is read unchanged: the
// value cannot end its literal, start a comment or a command, or expand.
func TestQuoteInContext(t *testing.T) {
	for _, tc := range []struct {
		lang     string
		quote    func(string) string
		lex      func(string) (lexed, error)
		template string
		want     string
	}{
		{"KQL", QuoteKQL, lexKQL, "T | where User == %s | take 1 // done\n| count", "T | where User == S | take 1 \n| count"},
		{"SPL", QuoteSPL, lexSPL, "search index=x | where user==%s ```c``` | head 1", "search index=x | where user==S  | head 1"},
		{"PowerShell", QuotePowerShell, lexPS, "$a = @(%s, 'x') # c\nWrite-Host $a", "$a = @(S, S) \nWrite-Host $a"},
	} {
		for _, v := range hostile {
			q := strings.Replace(tc.template, "%s", tc.quote(v), 1)
			l, err := tc.lex(q)
			if err != nil {
				t.Errorf("%s with %q: %v\n%s", tc.lang, v, err, q)
				continue
			}
			if l.skeleton != tc.want {
				t.Errorf("%s with %q: read as %q, want %q", tc.lang, v, l.skeleton, tc.want)
			}
			if l.values[0] != v {
				t.Errorf("%s with %q: value reads back as %q", tc.lang, v, l.values[0])
			}
		}
	}
}

// TestQuoteNeverRaw checks the characters each language must never see raw
// in a literal: line breaks anywhere; for SPL anything that a macro, comment,
// token or wildcard could use; for PowerShell every non-ASCII character, so
// no typographic quote.
func TestQuoteNeverRaw(t *testing.T) {
	for _, v := range hostile {
		k, s, p := QuoteKQL(v), QuoteSPL(v), QuotePowerShell(v)
		for _, q := range []string{k, s, p} {
			if strings.ContainsAny(q, "\n\r\x00") {
				t.Errorf("line break or NUL raw in %q", q)
			}
		}
		if strings.ContainsAny(s[1:len(s)-1], "`$*|[]\\ \t'") && !strings.HasPrefix(s, "urldecode(") {
			t.Errorf("QuoteSPL(%q) = %s holds a special character raw", v, s)
		}
		if strings.HasPrefix(s, "urldecode(") && strings.ContainsAny(s[len(`urldecode("`):len(s)-2], "`$*|[]\\ \t'\"+") {
			t.Errorf("QuoteSPL(%q) = %s holds a special character raw", v, s)
		}
		for i := 0; i < len(p); i++ {
			if p[i] >= 0x80 {
				t.Errorf("QuotePowerShell(%q) = %s holds non-ASCII raw", v, p)
				break
			}
		}
	}
}
