package testutil

// LookAlikes are pairs of values that must never show the same, wherever
// attacker-controlled text is shown (a report, explain, an error line):
// each second value imitates the first, or the literal text of an escape
// imitates the character it names. One list, so that a look-alike found
// once is tested everywhere.
var LookAlikes = [][2]string{
	{"alice@contoso.com", "alice\x1b[0m@contoso.com"},
	{"alice@contoso.com", "alice\u200b@contoso.com"},
	{"alice@contoso.com", "alice\u00ad@contoso.com"},
	{"alice@contoso.com", "alice\ufeff@contoso.com"},
	{"alice@contoso.com", "al\u3164ice@contoso.com"},
	{"alice@contoso.com", "\u202ealice@contoso.com"},
	{"bob\x1b[31m@x.example", `bob\x1b[31m@x.example`},
	{"bob\u202e@x.example", `bob\u202e@x.example`},
	{"bob\U000e0041@x.example", `bob\U000e0041@x.example`},
	{"bob\xff@x.example", `bob\xff@x.example`},
	{"bob\u00ff@x.example", `bob\xff@x.example`},
	{"bob\u00ff@x.example", "bob\xff@x.example"},
	{"bob\ufffd@x.example", "bob\xff@x.example"},
	{"bob\\\x1b@x.example", `bob\\x1b@x.example`},
	{"a b", "a\u00a0b"},
	{"a\nb", "a\u2028b"},
}
