package source

import (
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// errOddByte ends a UTF-16 stream whose length is odd: the last byte
// cannot be half of anything, and is dropped.
var errOddByte = errors.New("utf-16 text ends with an odd byte")

// utf16Reader transcodes UTF-16 (PowerShell's default "Unicode" encoding
// for Out-File and Export-Csv) to UTF-8 while streaming, so that framers
// only ever see UTF-8. Unpaired surrogates become U+FFFD, as
// encoding/json would make them.
type utf16Reader struct {
	r      io.Reader
	be     bool
	in     []byte // raw bytes in[lo:hi] not yet converted
	lo, hi int
	eof    bool
	err    error
	out    [4]byte // converted bytes that did not fit the caller's buffer
	outLen int
}

func newUTF16Reader(r io.Reader, bigEndian bool) *utf16Reader {
	return &utf16Reader{r: r, be: bigEndian, in: make([]byte, 64<<10)}
}

func (u *utf16Reader) unit(i int) uint16 {
	if u.be {
		return uint16(u.in[i])<<8 | uint16(u.in[i+1])
	}
	return uint16(u.in[i]) | uint16(u.in[i+1])<<8
}

func (u *utf16Reader) fill() {
	if u.eof {
		return
	}
	if u.lo > 0 {
		u.hi = copy(u.in, u.in[u.lo:u.hi])
		u.lo = 0
	}
	for tries := 0; tries < 100; tries++ {
		n, err := u.r.Read(u.in[u.hi:])
		u.hi += n
		if err != nil {
			u.eof = true
			if err != io.EOF {
				u.err = err
			}
			return
		}
		if n > 0 {
			return
		}
	}
	u.eof, u.err = true, io.ErrNoProgress
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	n := 0
	if u.outLen > 0 {
		n = copy(p, u.out[:u.outLen])
		copy(u.out[:], u.out[n:u.outLen])
		u.outLen -= n
		return n, nil
	}
	for n == 0 {
		if u.hi-u.lo < 4 && !u.eof {
			u.fill()
		}
		for u.hi-u.lo >= 2 && n < len(p) {
			c := u.unit(u.lo)
			if c < 0x80 && n < len(p) {
				p[n] = byte(c)
				n++
				u.lo += 2
				continue
			}
			r, used := rune(c), 2
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				if c < 0xdc00 { // a high surrogate: needs its pair
					if u.hi-u.lo < 4 && !u.eof {
						break // wait for the next read
					}
					if u.hi-u.lo >= 4 {
						if r2 := utf16.DecodeRune(rune(c), rune(u.unit(u.lo+2))); r2 != utf8.RuneError {
							r, used = r2, 4
						}
					}
				}
			}
			u.lo += used
			if len(p)-n >= utf8.UTFMax {
				n += utf8.EncodeRune(p[n:], r)
				continue
			}
			k := utf8.EncodeRune(u.out[:], r)
			m := copy(p[n:], u.out[:k])
			n += m
			u.outLen = copy(u.out[:], u.out[m:k])
			return n, nil
		}
		if n > 0 {
			return n, nil
		}
		if u.eof && u.hi-u.lo < 2 {
			if u.err != nil {
				return 0, u.err
			}
			if u.hi-u.lo == 1 {
				u.lo = u.hi
				return 0, errOddByte
			}
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
	}
	return n, nil
}
