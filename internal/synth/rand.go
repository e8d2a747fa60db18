package synth

import (
	"math/bits"
)

// rng is splitmix64. It is written here rather than taken from math/rand
// because the output must stay byte-identical across Go releases (the
// golden file and every benchmark file depend on it), and math/rand's
// derived methods (IntN, Shuffle) carry no such promise.
type rng struct{ s uint64 }

// Streams keep the randomness of independent parts apart, so that adding a
// noise kind does not move the scenario records and vice versa.
const (
	streamTenant   = 1
	streamScenario = 2
	streamNoise    = 3
	streamFormat   = 4
	// streamSignIn draws the sign-in log's own facts of each sign-in
	// (Options.SignInLog), and the sign-ins only that log has: the UAL
	// output is the same with or without the sign-in log.
	streamSignIn = 5
)

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRng returns the generator for item k of a stream. Seeding per item
// (not one generator for the whole run) makes a noise record a function of
// (seed, k) alone, so the same record can be produced in ascending or
// descending time order.
func newRng(seed int64, stream, k uint64) rng {
	return rng{s: mix64(uint64(seed)^0x6a09e667f3bcc909) ^ mix64(stream*0x9e3779b97f4a7c15+k+1)}
}

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n) by multiply-high (no modulo bias worth
// caring about for a generator, and no division).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// f64 returns a value in [0, 1).
func (r *rng) f64() float64 { return float64(r.u64()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.f64() < p }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

const hexLower = "0123456789abcdef"
const hexUpper = "0123456789ABCDEF"

func appendHex(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexLower[(v>>(uint(i)*4))&0xf])
	}
	return b
}

func appendHexUpper(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexUpper[(v>>(uint(i)*4))&0xf])
	}
	return b
}

// appendGUID appends a random version-4 GUID in the lower-case dashed form
// every UAL record uses.
func appendGUID(b []byte, r *rng) []byte {
	hi, lo := r.u64(), r.u64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	b = appendHex(b, hi>>32, 8)
	b = append(b, '-')
	b = appendHex(b, hi>>16, 4)
	b = append(b, '-')
	b = appendHex(b, hi, 4)
	b = append(b, '-')
	b = appendHex(b, lo>>48, 4)
	b = append(b, '-')
	return appendHex(b, lo, 12)
}

func guid(r *rng) string { return string(appendGUID(make([]byte, 0, 36), r)) }

// Record ids. A record's Id must be unique (the engine de-duplicates on it),
// so 48 of its bits are a bijective scramble of the record's index rather
// than chance; the rest is random and styled after the workload: Entra STS
// ids end in "..00" (they are request ids), SharePoint and Exchange ids end
// in the high bits of the .NET tick count ("-08de..."), as in real exports.
const (
	idPlain = iota
	idSTS
	idTicks
)

const mask48 = 1<<48 - 1

func scramble48(x, key uint64) uint64 {
	x = (x ^ key) & mask48
	x = (x * 0x9E3779B97F4B) & mask48
	x ^= x >> 23
	x = (x * 0xBF58476D1CE5) & mask48
	x ^= x >> 25
	return x
}

// dotnetTicks converts Unix seconds to .NET ticks (100 ns since 0001-01-01).
func dotnetTicks(sec int64) uint64 { return uint64(sec+62135596800) * 10_000_000 }

func appendRecordID(b []byte, idx, key uint64, style int, sec int64, r *rng) []byte {
	s := scramble48(idx, key)
	v := r.u64()
	b = appendHex(b, s>>16, 8)
	b = append(b, '-')
	b = appendHex(b, s, 4)
	b = append(b, '-')
	b = appendHex(b, v>>48&0x0fff|0x4000, 4)
	b = append(b, '-')
	b = appendHex(b, v>>32&0x3fff|0x8000, 4)
	b = append(b, '-')
	switch style {
	case idSTS:
		b = appendHex(b, v&0xffffffffff, 10)
		b = append(b, '0', '0')
	case idTicks:
		t := dotnetTicks(sec) + v&0xffffff
		b = appendHex(b, t>>16, 12)
	default:
		b = appendHex(b, r.u64(), 12)
	}
	return b
}

// appendPUID appends a 16-digit upper-case hex Passport unique id
// ("10032001A2B3C4D5"), the form of UserKey in Exchange and Entra records.
func appendPUID(b []byte, r *rng) []byte {
	b = append(b, "1003"...)
	return appendHexUpper(b, r.u64(), 12)
}

// Civil time without package time on the hot path: CreationTime is written
// for every record and time.Time formatting costs more than the rest of a
// small field.
func civil(sec int64) (y, mo, d, h, mi, s int) {
	days := sec / 86400
	rem := sec - days*86400
	if rem < 0 {
		rem += 86400
		days--
	}
	h, mi, s = int(rem/3600), int(rem/60%60), int(rem%60)
	// Howard Hinnant's civil_from_days.
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mp >= 10 {
		mm = mp - 9
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd), h, mi, s
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func appendInt(b []byte, v int) []byte {
	if v < 10 {
		return append(b, byte('0'+v))
	}
	var tmp [20]byte
	i := len(tmp)
	for v > 0 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[i:]...)
}

// appendISO appends "2026-10-01T04:05:03", the UAL CreationTime form (UTC,
// no zone, no fraction).
func appendISO(b []byte, sec int64) []byte {
	y, mo, d, h, mi, s := civil(sec)
	b = appendInt(b, y)
	b = append(b, '-')
	b = append2(b, mo)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	return append2(b, s)
}

// appendUSDate appends "10/1/2026 4:05:03 AM", the Purview and
// Search-UnifiedAuditLog CSV form (M/d/yyyy h:mm:ss tt).
func appendUSDate(b []byte, sec int64) []byte { return appendUSTime(b, sec, " ", "") }

// appendUSTime appends M/d/yyyy, sep, h:mm:ss, frac and AM or PM.
func appendUSTime(b []byte, sec int64, sep, frac string) []byte {
	y, mo, d, h, mi, s := civil(sec)
	b = appendInt(b, mo)
	b = append(b, '/')
	b = appendInt(b, d)
	b = append(b, '/')
	b = appendInt(b, y)
	b = append(b, sep...)
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	b = appendInt(b, h12)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, s)
	b = append(b, frac...)
	if h < 12 {
		return append(b, " AM"...)
	}
	return append(b, " PM"...)
}
