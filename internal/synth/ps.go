package synth

// Windows PowerShell 5.1's ConvertTo-Json layout, which analysts' exports
// of Search-UnifiedAuditLog (and Microsoft-Extractor-Suite's JSON) carry:
//
//   - "key":  value, with two spaces after the colon;
//   - a container's members are indented four columns past the column of
//     its opening bracket, and its closing bracket sits in that column, so
//     indentation depends on key lengths, not on depth;
//   - an empty array or object is the bracket, an empty line, and the
//     closing bracket in the opening bracket's column;
//   - CRLF line ends; '/' unescaped; <, >, & and ' escaped as \u003c,
//     \u003e, \u0026, \u0027 (JavaScriptSerializer).

type psPrinter struct {
	src       []byte
	i         int
	out       []byte
	lineStart int
	tmp       []byte
}

const spaces = "                                                                                                                                "

func appendSpaces(b []byte, n int) []byte {
	for n > len(spaces) {
		b = append(b, spaces...)
		n -= len(spaces)
	}
	return append(b, spaces[:n]...)
}

// print appends the compact JSON value js laid out as PowerShell does,
// the value starting at column col of the current line.
func (p *psPrinter) print(b, js []byte, col int) []byte {
	p.src, p.i, p.out = js, 0, b
	p.lineStart = len(b) - col
	p.value()
	b = p.out
	p.src, p.out = nil, nil
	return b
}

func (p *psPrinter) col() int { return len(p.out) - p.lineStart }

func (p *psPrinter) nl(indent int) {
	p.out = append(p.out, '\r', '\n')
	p.lineStart = len(p.out)
	p.out = appendSpaces(p.out, indent)
}

func (p *psPrinter) value() {
	switch p.src[p.i] {
	case '{':
		p.container('{', '}', true)
	case '[':
		p.container('[', ']', false)
	case '"':
		p.str()
	default:
		j := p.i
		for j < len(p.src) && p.src[j] != ',' && p.src[j] != '}' && p.src[j] != ']' {
			j++
		}
		p.out = append(p.out, p.src[p.i:j]...)
		p.i = j
	}
}

func (p *psPrinter) container(open, close byte, object bool) {
	col := p.col()
	p.out = append(p.out, open)
	p.i++
	if p.src[p.i] == close {
		p.i++
		p.nl(0)
		p.nl(col)
		p.out = append(p.out, close)
		return
	}
	for {
		p.nl(col + 4)
		if object {
			p.str()
			p.i++ // ':'
			p.out = append(p.out, ':', ' ', ' ')
		}
		p.value()
		if p.src[p.i] == ',' {
			p.i++
			p.out = append(p.out, ',')
			continue
		}
		p.i++ // the closing bracket
		break
	}
	p.nl(col)
	p.out = append(p.out, close)
}

// str decodes the JSON string at p.i (as the encoders here write them:
// \" \\ \/ \n \r \t \u00XX) and appends it PowerShell-escaped.
func (p *psPrinter) str() {
	p.i++ // opening quote
	p.tmp = p.tmp[:0]
	for {
		c := p.src[p.i]
		if c == '"' {
			p.i++
			break
		}
		if c != '\\' {
			p.tmp = append(p.tmp, c)
			p.i++
			continue
		}
		switch e := p.src[p.i+1]; e {
		case 'n':
			p.tmp = append(p.tmp, '\n')
		case 'r':
			p.tmp = append(p.tmp, '\r')
		case 't':
			p.tmp = append(p.tmp, '\t')
		case 'u':
			v := 0
			for _, h := range p.src[p.i+2 : p.i+6] {
				v <<= 4
				switch {
				case h >= '0' && h <= '9':
					v |= int(h - '0')
				case h >= 'a' && h <= 'f':
					v |= int(h-'a') + 10
				case h >= 'A' && h <= 'F':
					v |= int(h-'A') + 10
				}
			}
			p.tmp = append(p.tmp, byte(v)) // the encoders only escape ASCII controls
			p.i += 4
		default:
			p.tmp = append(p.tmp, e)
		}
		p.i += 2
	}
	p.out = append(p.out, '"')
	p.out = appendPSString(p.out, p.tmp)
	p.out = append(p.out, '"')
}

// appendPSString appends raw text escaped as JavaScriptSerializer does.
func appendPSString(b, s []byte) []byte {
	return appendEscaped(b, s, psEsc)
}

// psEsc is JavaScriptSerializer's table: it also writes < > & ' as
// \u00XX (HTML-safe), and leaves / alone.
var psEsc = newEscapes(map[byte]byte{'<': 'u', '>': 'u', '&': 'u', '\'': 'u'})
