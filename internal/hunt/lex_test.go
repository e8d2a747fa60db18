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

// lexKQL reads KQL: // comments; "…" and '…' with \ escapes; @"…" and @'…'
// verbatim with doubled quotes. Multi-line ``` literals are never written,
// so meeting one is an error.
func lexKQL(q string) (lexed, error) {
	var out lexed
	var sk strings.Builder
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case strings.HasPrefix(q[i:], "//"):
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case strings.HasPrefix(q[i:], "```"):
			return out, fmt.Errorf("multi-line literal at %d", i)
		case (c == '@' || c == 'h' || c == 'H') && i+1 < len(q) && (q[i+1] == '"' || q[i+1] == '\'') && !isIdentByte(prevByte(q, i)):
			if c != '@' {
				return out, fmt.Errorf("obfuscated literal at %d", i)
			}
			quote := q[i+1]
			j := i + 2
			var v strings.Builder
			for {
				if j >= len(q) {
					return out, fmt.Errorf("unterminated verbatim literal at %d", i)
				}
				if q[j] == '\n' || q[j] == '\r' {
					return out, fmt.Errorf("raw line break in literal at %d", i)
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
			sk.WriteString("S")
			out.values = append(out.values, v.String())
			i = j + 1
		case c == '"' || c == '\'':
			j := i + 1
			var v strings.Builder
			for {
				if j >= len(q) {
					return out, fmt.Errorf("unterminated literal at %d", i)
				}
				if q[j] == '\n' || q[j] == '\r' {
					return out, fmt.Errorf("raw line break in literal at %d", i)
				}
				if q[j] == '\\' {
					if j+1 >= len(q) {
						return out, fmt.Errorf("dangling escape at %d", j)
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
						return out, fmt.Errorf("unknown escape \\%c at %d", e, j)
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
			val := v.String()
			rest := q[j+1:]
			if s := sk.String(); strings.HasSuffix(s, "base64_decode_tostring(") && strings.HasPrefix(rest, ")") {
				dec, err := base64.StdEncoding.DecodeString(val)
				if err != nil {
					return out, err
				}
				sk.Reset()
				sk.WriteString(strings.TrimSuffix(s, "base64_decode_tostring("))
				val = string(dec)
				j++
			}
			sk.WriteString("S")
			out.values = append(out.values, val)
			i = j + 1
		default:
			sk.WriteByte(c)
			i++
		}
	}
	out.skeleton = sk.String()
	return out, nil
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
	var out lexed
	var sk strings.Builder
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case strings.HasPrefix(q[i:], "```"):
			end := strings.Index(q[i+3:], "```")
			if end < 0 {
				return out, fmt.Errorf("unterminated comment at %d", i)
			}
			i += 3 + end + 3
		case c == '`' && strings.HasSuffix(sk.String(), "search ") && splScopeMacro(q[i:]) > 0:
			// The scope macro of --macro, outsider's own text (checked
			// by ValidSplunkMacro): the one macro a query may hold.
			n := splScopeMacro(q[i:])
			sk.WriteString(q[i : i+n])
			i += n
		case c == '`' || c == '$':
			return out, fmt.Errorf("%c outside a comment at %d: a macro or token", c, i)
		case c == '"':
			j := i + 1
			var v strings.Builder
			for {
				if j >= len(q) {
					return out, fmt.Errorf("unterminated literal at %d", i)
				}
				if q[j] == '\n' || q[j] == '\r' {
					return out, fmt.Errorf("raw line break in literal at %d", i)
				}
				if q[j] == '`' || q[j] == '$' {
					return out, fmt.Errorf("%c inside a literal at %d", q[j], j)
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
			val := v.String()
			rest := q[j+1:]
			if s := sk.String(); strings.HasSuffix(s, "urldecode(") && strings.HasPrefix(rest, ")") {
				for k := 0; k < len(val); k++ {
					if !isUnreserved(val[k]) && val[k] != '%' {
						return out, fmt.Errorf("urldecode input holds %q", val[k])
					}
				}
				dec, err := url.PathUnescape(val)
				if err != nil {
					return out, err
				}
				sk.Reset()
				sk.WriteString(strings.TrimSuffix(s, "urldecode("))
				val = dec
				j++
			}
			sk.WriteString("S")
			out.values = append(out.values, val)
			i = j + 1
		default:
			sk.WriteByte(c)
			i++
		}
	}
	out.skeleton = sk.String()
	return out, nil
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

// lexPS reads PowerShell: # comments to the end of the line (at the start
// of a token); '…' verbatim strings in which any single-quote character
// ends the string unless another follows; "…" expandable strings with `
// escapes. <# #> and here-strings are never written, so meeting one is an
// error.
func lexPS(q string) (lexed, error) {
	var out lexed
	var sk strings.Builder
	const decoder = "([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String("
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		switch {
		case strings.HasPrefix(q[i:], "<#") || strings.HasPrefix(q[i:], "@'") || strings.HasPrefix(q[i:], "@\""):
			return out, fmt.Errorf("block comment or here-string at %d", i)
		case r == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case strings.ContainsRune(psSingleQuotes, r):
			j := i + size
			var v strings.Builder
			for {
				if j >= len(q) {
					return out, fmt.Errorf("unterminated literal at %d", i)
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
			val := v.String()
			if s := sk.String(); strings.HasSuffix(s, decoder) && strings.HasPrefix(q[j:], ")))") {
				dec, err := base64.StdEncoding.DecodeString(val)
				if err != nil {
					return out, err
				}
				sk.Reset()
				sk.WriteString(strings.TrimSuffix(s, decoder))
				val = string(dec)
				j += 3
			}
			sk.WriteString("S")
			out.values = append(out.values, val)
			i = j
		case r == '"' || r == '\u201c' || r == '\u201d' || r == '\u201e':
			return out, fmt.Errorf("expandable string at %d: outsider writes none", i)
		default:
			sk.WriteString(q[i : i+size])
			i += size
		}
	}
	out.skeleton = sk.String()
	return out, nil
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
