package audit

import (
	"bytes"
	"time"

	"github.com/outsider-sec/outsider/internal/localedate"
)

// ParseTime reads the record times Microsoft writes, as Unix nanoseconds
// UTC: CreationTime "2020-02-10T15:13:13" (no zone: UTC by definition),
// with optional fractional seconds and an optional "Z" or ±hh:mm offset
// (Graph's createdDateTime), and PowerShell's "/Date(1728364117000)/".
// The common shape is parsed by hand: time.Parse would cost more than the
// rest of the record's decoding.
func ParseTime(b []byte) (int64, bool) {
	if bytes.HasPrefix(b, []byte("/Date(")) {
		return parseMSDate(b)
	}
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	h, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	s, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > localedate.DaysIn(mo, y) || h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	var nanos int64
	rest := b[19:]
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		var n int
		if nanos, n = localedate.Fraction(rest[1:]); n == 0 {
			return 0, false
		}
		rest = rest[1+n:]
	}
	var offset int64
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = int64(oh*3600+om*60) * 1e9
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	days := localedate.DaysFromCivil(y, mo, d)
	secs := days*86400 + int64(h*3600+mi*60+s)
	return secs*1e9 + nanos - offset, true
}

func parseMSDate(b []byte) (int64, bool) {
	b = b[len("/Date("):]
	end := bytes.IndexByte(b, ')')
	if end <= 0 {
		return 0, false
	}
	num := b[:end]
	// An offset such as "+0200" may follow the milliseconds; the number is
	// UTC milliseconds regardless.
	if i := bytes.IndexAny(num[1:], "+-"); i >= 0 {
		num = num[:i+1]
	}
	neg := false
	if num[0] == '-' {
		neg, num = true, num[1:]
	}
	if len(num) == 0 || len(num) > 15 {
		return 0, false
	}
	var ms int64
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int64(c-'0')
	}
	if neg {
		ms = -ms
	}
	return ms * int64(time.Millisecond), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// FormatTime renders Unix nanoseconds as RFC 3339 UTC, the only time
// format outsider writes.
func FormatTime(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
