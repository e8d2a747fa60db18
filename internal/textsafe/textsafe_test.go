package textsafe

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/testutil"
)

func TestTerminal(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"alice@fabrikam.com", "alice@fabrikam.com"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"a\x00b", `a\x00b`},
		{"a\x7fb", `a\x7fb`},
		{"tab\there", `tab\x09here`},
		{"a\r\nb", `a\x0d\x0ab`},
		{"a\u0085b", `a\u0085b`},
		{"c1\u009bx", `c1\u009bx`},
		{"a\u202eb\u2066c\u2069", `a\u202eb\u2066c\u2069`},
		{"a\u200bb\u200c\u200d\u200e\u200f", `a\u200bb\u200c\u200d\u200e\u200f`},
		{"a\ufeffb", `a\ufeffb`},
		{"soft\u00adhyphen", `soft\u00adhyphen`},
		{"word\u2060joiner", `word\u2060joiner`},
		{"a\u2028b\u2029", `a\u2028b\u2029`},
		{"a\u00a0b", `a\u00a0b`},
		{"ideographic\u3000space", `ideographic\u3000space`},
		{"al\u3164ice", `al\u3164ice`},
		{"al\u115fice", `al\u115fice`},
		{"e\u034f", `e\u034f`},
		{"vs\ufe0f", `vs\ufe0f`},
		{"arabic\u061cmark", `arabic\u061cmark`},
		{"\xff\xfe", `\xff\xfe`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"\xe2\x80", `\xe2\x80`},
		{"\xed\xa0\x80", `\xed\xa0\x80`}, // an encoded surrogate is invalid UTF-8
		{"real\ufffd", `real\ufffd`},
		{"private\ue000", `private\ue000`},
		{"tag\U000E0041", `tag\U000e0041`},
		{"élodie 日本 😀", "élodie 日本 😀"},
		{"zero\u200bwidth? ok.", `zero\u200bwidth? ok.`},
		// Backslashes: written once where nothing could read them as an
		// escape, doubled where something could.
		{`SHAREPOINT\system`, `SHAREPOINT\system`},
		{`\Inbox\Board`, `\Inbox\Board`},
		{`C:\logs\audit.json`, `C:\logs\audit.json`},
		{`C:\logs\x.json`, `C:\logs\\x.json`},
		{`C:\Users\ursula`, `C:\\Users\\ursula`},
		{`\x1b`, `\\x1b`},
		{`\u202e`, `\\u202e`},
		{`\U0001F600`, `\\U0001F600`},
		{`\xzz`, `\\xzz`},
		{`a\\b`, `a\\\b`},
		{`a\`, `a\\`},
		{`\`, `\\`},
		{"a\\\x1b", `a\\\x1b`},
		{"a\\\xff", `a\\\xff`},
		{"a\\\u202e", `a\\\u202e`},
		{"a\\ b", `a\ b`},
	}
	for _, c := range cases {
		if got := Terminal(c.in); got != c.want {
			t.Errorf("Terminal(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := HTML(c.in); got != c.want {
			t.Errorf("HTML(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Escapes(c.in); got != (c.want != c.in) {
			t.Errorf("Escapes(%q) = %v, want %v", c.in, got, !got)
		}
		// Plain: nothing but backslashes would be escaped.
		noBackslash := strings.ReplaceAll(c.in, `\`, "a")
		if got, want := Plain(c.in), Terminal(noBackslash) == noBackslash; got != want {
			t.Errorf("Plain(%q) = %v, want %v", c.in, got, want)
		}
		if back, ok := decode(c.want); !ok || back != c.in {
			t.Errorf("decode(%q) = %q, %v; want %q", c.want, back, ok, c.in)
		}
	}
}

// TestLookAlikes: values an attacker would use to pass one account off as
// another, each paired with the one it imitates, never show the same.
func TestLookAlikes(t *testing.T) {
	for _, p := range testutil.LookAlikes {
		for name, f := range map[string]func(string) string{
			"Terminal": Terminal, "Line": Line, "HTML": HTML, "MarkdownText": MarkdownText,
			"MarkdownCode":            func(s string) string { return MarkdownCode(s, false) },
			"MarkdownCode in a table": func(s string) string { return MarkdownCode(s, true) },
		} {
			if a, b := f(p[0]), f(p[1]); a == b {
				t.Errorf("%s shows %q and %q alike: %q", name, p[0], p[1], a)
			}
		}
	}
}

func TestShorten(t *testing.T) {
	if got := Shorten("a\x1bb", 10); got != `a\x1bb` {
		t.Errorf("Shorten short = %q", got)
	}
	long := strings.Repeat("é", 1000)
	got := Shorten(long, 301)
	if !utf8.ValidString(got) || got != strings.Repeat("é", 150)+"… (2000 bytes in all)" {
		t.Errorf("Shorten(long) = %q", got)
	}
	if got := Shorten("\x1b\x1b\x1b", 2); got != `\x1b\x1b… (3 bytes in all)` {
		t.Errorf("Shorten(escapes) = %q", got)
	}
}

// TestJSON: the text is valid JSON for the same values, with what
// Terminal escapes written as JSON escapes and JSON syntax untouched.
func TestJSON(t *testing.T) {
	v := map[string]string{"user": "a\u202eb\u0085c\U000e0001\u3164", "obj": "<x>\x1b\\x1b\"", "bad": "\xff", "ok": "élodie 😀"}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out := JSON(string(b))
	var back map[string]string
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]string{"user": v["user"], "obj": v["obj"], "bad": "\ufffd", "ok": v["ok"]}
	for k := range want {
		if back[k] != want[k] {
			t.Errorf("%s read back as %q, want %q", k, back[k], want[k])
		}
	}
	if strings.ContainsAny(out, "\u202e\u0085\x1b\u3164\ufffd") || !strings.Contains(out, `\u202e`) || !strings.Contains(out, `\udb40\udc01`) {
		t.Errorf("JSON not cleaned: %s", out)
	}
	if !strings.Contains(out, "\n  \"") || !strings.Contains(out, "élodie 😀") {
		t.Errorf("JSON lost its layout or printable text: %s", out)
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+x": "'+x", "-x": "'-x", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx", "|x": "'|x", "%x": "'%x",
		"＝1+1": "'＝1+1", "＋x": "'＋x", "－x": "'－x", "＠x": "'＠x",
		"ok": "ok", "": "", "a\x00b": "ab", "\x00=x": "'=x", "a=b": "a=b", "é": "é", "\xff": "\xff",
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMarkdownCode(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         "`plain`",
		"a|b":           "`a\\|b`",
		"a`b":           "``a`b``",
		"`x`":           "`` `x` ``",
		"a``b`":         "``` a``b` ```",
		"<b>":           "`<b>`",
		"x\ny":          "`x\\x0ay`",
		"rtl\u202e":     "`rtl\\u202e`",
		`lit\x1b`:       "`lit\\\\x1b`",
		"real\x1b":      "`real\\x1b`",
		`a\|b`:          "`a\\\\|b`",
		"":              "",
		"bob\u200b@x.y": "`bob\\u200b@x.y`",
	} {
		if got := MarkdownCode(in, true); got != want {
			t.Errorf("MarkdownCode(%q, true) = %q, want %q", in, got, want)
		}
	}
	if got := MarkdownCode("a|b", false); got != "`a|b`" {
		t.Errorf("MarkdownCode outside a table = %q", got)
	}
}

func TestMarkdownText(t *testing.T) {
	for in, want := range map[string]string{
		"plain words":                  "plain words",
		"*b* _i_ `c` [l](x) | ~s~ $m$": `\*b\* \_i\_ \` + "`c\\`" + ` \[l\](x) \| \~s\~ \$m\$`,
		"<img src=x onerror=y>":        "&lt;img src=x onerror=y&gt;",
		"&#124; &amp;":                 "&amp;\\#124; &amp;amp;",
		"see https://evil.example":     `see https\://evil.example`,
		"www.evil.example":             `www\.evil.example`,
		"- item":                       `\- item`,
		"1. item":                      `1\. item`,
		"# h":                          `\# h`,
		"a\nb":                         `a\\x0ab`,
		`back\slash`:                   `back\\slash`,
		`lit\x1b`:                      `lit\\\\x1b`,
		"real\x1b":                     `real\\x1b`,
	} {
		if got := MarkdownText(in); got != want {
			t.Errorf("MarkdownText(%q) = %q, want %q", in, got, want)
		}
	}
}

// decode reverses Terminal, to prove its output is unambiguous: \\ is a
// backslash, \xNN a byte, \uNNNN and \UNNNNNNNN a rune, and a backslash
// before anything else stands for itself. ok is false for text Terminal
// cannot have written.
func decode(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		n := 0
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
			i++
			continue
		case 'x':
			n = 2
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			b.WriteByte('\\')
			continue
		}
		if i+2+n > len(s) {
			return "", false
		}
		v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
		if err != nil {
			return "", false
		}
		if n == 2 {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		i += 1 + n
	}
	return b.String(), true
}

// FuzzTerminal: whatever the input, Terminal writes only printable,
// visible characters and no raw control, and decode gives the input back,
// so no two inputs show the same. MarkdownCode, MarkdownText and
// CSVCell must not fail on it either.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"", "a\\b", `\x1b`, "\\\x1b", "\xff\\", "x\u202e\u0085", "SHAREPOINT\\system",
		`C:\logs\x.json`, "alice\u200b@contoso.com", "\U000e0041", "\ufffd", "\u3164", `\`, `\\`, `\u`, "a`|b"} {
		f.Add(s)
	}
	for _, p := range testutil.LookAlikes {
		f.Add(p[0])
		f.Add(p[1])
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Terminal(s)
		if !utf8.ValidString(c) {
			t.Fatalf("Terminal(%q) = %q is not UTF-8", s, c)
		}
		for _, r := range c {
			if r != ' ' && (!unicode.IsPrint(r) || invisible(r)) || r == utf8.RuneError {
				t.Fatalf("Terminal(%q) = %q has unprintable U+%04X", s, c, r)
			}
		}
		back, ok := decode(c)
		if !ok || back != s {
			t.Fatalf("Terminal(%q) = %q reads back as %q", s, c, back)
		}
		// Plain: nothing but backslashes would be escaped. Each backslash
		// is replaced, not removed, so that bytes around it stay apart.
		if noBackslash := strings.ReplaceAll(s, `\`, "a"); Plain(s) != (Terminal(noBackslash) == noBackslash) {
			t.Fatalf("Plain(%q) = %v", s, Plain(s))
		}
		if Escapes(s) != (c != s) {
			t.Fatalf("Escapes(%q) = %v, Terminal gives %q", s, Escapes(s), c)
		}
		for _, m := range []string{MarkdownCode(s, true), MarkdownText(s)} {
			if strings.ContainsAny(m, "\n\r\x1b\u202e\u2028") {
				t.Fatalf("Markdown for %q = %q carries a raw control", s, m)
			}
		}
		if cell := CSVCell(s); strings.IndexByte(cell, 0) >= 0 {
			t.Fatalf("CSVCell(%q) = %q keeps a NUL", s, cell)
		}
	})
}
