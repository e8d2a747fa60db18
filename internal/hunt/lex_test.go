package hunt

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// The lexers below read query text the way each language's parser reads
// string literals and comments (rules cited on QuoteKQL, QuoteSPL and
// QuotePowerShell). They return the skeleton of a query (its text outside
// string literals and comments, each literal replaced by S) and the values
// of its literals, with the run-time decoders (base64_decode_tostring,
// urldecode, FromBase64String) applied. A hostile value that broke out of
// its literal would change the skeleton; one that was mangled would change
// its decoded value.

type lexed struct {
	skeleton string
	values   []string
}

// lexer holds what the three lexers build alike: the skeleton so far and
// the literals' values.
type lexer struct {
	out lexed
	sk  strings.Builder
}

// lex reads q with token, the language's reader of comments and literals:
// at each position token returns where reading goes on, or the position
// itself when the text there is plain query text, which goes to the
// skeleton a character at a time.
func lex(q string, token func(l *lexer, q string, i int) (int, error)) (lexed, error) {
	var l lexer
	for i := 0; i < len(q); {
		next, err := token(&l, q, i)
		if err != nil {
			return l.out, err
		}
		if next == i {
			_, size := utf8.DecodeRuneInString(q[i:])
			l.sk.WriteString(q[i : i+size])
			next = i + size
		}
		i = next
	}
	l.out.skeleton = l.sk.String()
	return l.out, nil
}

// literal records a literal's value and puts S for it in the skeleton.
func (l *lexer) literal(val string) {
	l.sk.WriteString("S")
	l.out.values = append(l.out.values, val)
}

// decodedLiteral records a literal whose value is val and which ends
// before q[end]; it returns where reading goes on. When the skeleton ends
// with open and q goes on with closing (the literal is the whole argument
// of a run-time decoder), decode is applied and the call leaves the
// skeleton, as the language's run time would unwrap it.
func (l *lexer) decodedLiteral(val, q string, end int, open, closing string, decode func(string) (string, error)) (int, error) {
	if s := l.sk.String(); strings.HasSuffix(s, open) && strings.HasPrefix(q[end:], closing) {
		dec, err := decode(val)
		if err != nil {
			return 0, err
		}
		l.sk.Reset()
		l.sk.WriteString(strings.TrimSuffix(s, open))
		val = dec
		end += len(closing)
	}
	l.literal(val)
	return end, nil
}

// base64String is base64_decode_tostring and FromBase64String's decoding.
func base64String(s string) (string, error) {
	dec, err := base64.StdEncoding.DecodeString(s)
	return string(dec), err
}

// inLiteral says why the literal that opened at start cannot go on at j:
// the query ended, or a raw line break (which none of outsider's literals
// holds) stands there; nil when it can.
func inLiteral(q string, start, j int) error {
	if j >= len(q) {
		return fmt.Errorf("unterminated literal at %d", start)
	}
	if q[j] == '\n' || q[j] == '\r' {
		return fmt.Errorf("raw line break in literal at %d", start)
	}
	return nil
}

// lexKQL reads KQL: // comments; "…" and '…' with \ escapes; @"…" and @'…'
// verbatim with doubled quotes. Multi-line ``` literals are never written,
// so meeting one is an error.
func lexKQL(q string) (lexed, error) {
	return lex(q, kqlToken)
}

func kqlToken(l *lexer, q string, i int) (int, error) {
	c := q[i]
	switch {
	case strings.HasPrefix(q[i:], "//"):
		for i < len(q) && q[i] != '\n' {
			i++
		}
		return i, nil
	case strings.HasPrefix(q[i:], "```"):
		return 0, fmt.Errorf("multi-line literal at %d", i)
	case (c == '@' || c == 'h' || c == 'H') && i+1 < len(q) && (q[i+1] == '"' || q[i+1] == '\'') && !isIdentByte(prevByte(q, i)):
		if c != '@' {
			return 0, fmt.Errorf("obfuscated literal at %d", i)
		}
		quote := q[i+1]
		j := i + 2
		var v strings.Builder
		for {
			if err := inLiteral(q, i, j); err != nil {
				return 0, err
			}
			if q[j] == quote {
				if j+1 < len(q) && q[j+1] == quote {
					v.WriteByte(quote)
					j += 2
					continue
				}
				break
			}
			v.WriteByte(q[j])
			j++
		}
		l.literal(v.String())
		return j + 1, nil
	case c == '"' || c == '\'':
		j := i + 1
		var v strings.Builder
		for {
			if err := inLiteral(q, i, j); err != nil {
				return 0, err
			}
			if q[j] == '\\' {
				if j+1 >= len(q) {
					return 0, fmt.Errorf("dangling escape at %d", j)
				}
				switch e := q[j+1]; e {
				case '\\', '"', '\'':
					v.WriteByte(e)
				case 'n':
					v.WriteByte('\n')
				case 't':
					v.WriteByte('\t')
				default:
					// Regex escapes such as \s only occur in verbatim
					// literals; in a regular one they would be a bug.
					return 0, fmt.Errorf("unknown escape \\%c at %d", e, j)
				}
				j += 2
				continue
			}
			if q[j] == c {
				break
			}
			v.WriteByte(q[j])
			j++
		}
		return l.decodedLiteral(v.String(), q, j+1, "base64_decode_tostring(", ")", base64String)
	}
	return i, nil
}

func prevByte(s string, i int) byte {
	if i == 0 {
		return ' '
	}
	return s[i-1]
}

func isIdentByte(c byte) bool {
	return isAlnum(c) || c == '_'
}

// lexSPL reads SPL: ```…``` comments; "…" with \" and \\ escapes (other
// backslashes, as in the regex replacement "@\1", stand for themselves);
// '…' field names, kept in the skeleton.
func lexSPL(q string) (lexed, error) {
	return lex(q, splToken)
}

func splToken(l *lexer, q string, i int) (int, error) {
	c := q[i]
	switch {
	case strings.HasPrefix(q[i:], "```"):
		end := strings.Index(q[i+3:], "```")
		if end < 0 {
			return 0, fmt.Errorf("unterminated comment at %d", i)
		}
		return i + 3 + end + 3, nil
	case c == '`' && strings.HasSuffix(l.sk.String(), "search ") && splScopeMacro(q[i:]) > 0:
		// The scope macro of --macro, outsider's own text (checked
		// by ValidSplunkMacro): the one macro a query may hold.
		n := splScopeMacro(q[i:])
		l.sk.WriteString(q[i : i+n])
		return i + n, nil
	case c == '`' || c == '$':
		return 0, fmt.Errorf("%c outside a comment at %d: a macro or token", c, i)
	case c == '"':
		j := i + 1
		var v strings.Builder
		for {
			if err := inLiteral(q, i, j); err != nil {
				return 0, err
			}
			if q[j] == '`' || q[j] == '$' {
				return 0, fmt.Errorf("%c inside a literal at %d", q[j], j)
			}
			if q[j] == '\\' && j+1 < len(q) && (q[j+1] == '"' || q[j+1] == '\\') {
				v.WriteByte(q[j+1])
				j += 2
				continue
			}
			if q[j] == '"' {
				break
			}
			v.WriteByte(q[j])
			j++
		}
		return l.decodedLiteral(v.String(), q, j+1, "urldecode(", ")", splURLDecode)
	}
	return i, nil
}

// splURLDecode is urldecode of a value outsider encoded: only unreserved
// characters and percent escapes may stand in it.
func splURLDecode(val string) (string, error) {
	for k := 0; k < len(val); k++ {
		if !isUnreserved(val[k]) && val[k] != '%' {
			return "", fmt.Errorf("urldecode input holds %q", val[k])
		}
	}
	return url.PathUnescape(val)
}

// splScopeMacro is the length of the `name` macro q starts with, 0 when
// it does not start with one of a valid name.
func splScopeMacro(q string) int {
	end := strings.IndexByte(q[1:], '`')
	if end < 0 || ValidSplunkMacro(q[1:1+end]) != nil {
		return 0
	}
	return end + 2
}

// psSingleQuotes are the characters PowerShell takes for a single quote.
const psSingleQuotes = "'\u2018\u2019\u201a\u201b"

// psDecoder is how a PowerShell query outsider writes decodes a base64
// literal; ")))" closes it.
const psDecoder = "([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String("

// lexPS reads PowerShell: # comments to the end of the line (at the start
// of a token); '…' verbatim strings in which any single-quote character
// ends the string unless another follows; "…" expandable strings with `
// escapes. <# #> and here-strings are never written, so meeting one is an
// error.
func lexPS(q string) (lexed, error) {
	return lex(q, psToken)
}

func psToken(l *lexer, q string, i int) (int, error) {
	r, size := utf8.DecodeRuneInString(q[i:])
	switch {
	case strings.HasPrefix(q[i:], "<#") || strings.HasPrefix(q[i:], "@'") || strings.HasPrefix(q[i:], "@\""):
		return 0, fmt.Errorf("block comment or here-string at %d", i)
	case r == '#':
		for i < len(q) && q[i] != '\n' {
			i++
		}
		return i, nil
	case strings.ContainsRune(psSingleQuotes, r):
		j := i + size
		var v strings.Builder
		for {
			if j >= len(q) {
				return 0, fmt.Errorf("unterminated literal at %d", i)
			}
			r2, s2 := utf8.DecodeRuneInString(q[j:])
			if strings.ContainsRune(psSingleQuotes, r2) {
				r3, s3 := utf8.DecodeRuneInString(q[j+s2:])
				if j+s2 < len(q) && strings.ContainsRune(psSingleQuotes, r3) {
					v.WriteRune(r3)
					j += s2 + s3
					continue
				}
				j += s2
				break
			}
			v.WriteRune(r2)
			j += s2
		}
		return l.decodedLiteral(v.String(), q, j, psDecoder, ")))", base64String)
	case r == '"' || r == '\u201c' || r == '\u201d' || r == '\u201e':
		return 0, fmt.Errorf("expandable string at %d: outsider writes none", i)
	}
	return i, nil
}

// lexFor picks the lexer of a SIEM's language.
func lexFor(siem SIEM) func(string) (lexed, error) {
	switch siem {
	case Splunk:
		return lexSPL
	case Purview:
		return lexPS
	}
	return lexKQL
}
