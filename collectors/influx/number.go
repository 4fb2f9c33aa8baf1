package influx

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
)

// Field values are parsed here rather than by Decoder.NextField: a float
// with 16-17 significant digits (what Go, Telegraf and lpload print) costs
// strconv.ParseFloat most of its time in scanning; parseFloat scans the
// digits once and proves its result exact with integer arithmetic, falling
// back to strconv.ParseFloat for every form it does not handle. Accepted
// inputs and values are exactly strconv.ParseFloat's, which is what the
// line-protocol decoder uses (checked by TestParseFloat_MatchesStrconv and
// FuzzParseFloat).

// pow10 holds the powers of ten that are exact in a float64 and a uint64.
var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimal splits a plain decimal [-]digits[.digits][(e|E)[+-]digits] into
// mantissa and power of ten. ok is false for any other form and for more
// than 19 significant digits, which the callers hand to strconv.
func decimal(b []byte) (man uint64, exp10 int, neg, ok bool) {
	i := 0
	if len(b) > 0 && b[0] == '-' {
		neg = true
		i++
	}
	nd, frac := 0, 0 // digits read, digits after the point
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		man = man*10 + uint64(c)
		nd++
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for ; i < len(b); i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			man = man*10 + uint64(c)
		}
		frac = i - start
		nd += frac
	}
	if nd == 0 {
		return 0, 0, false, false
	}
	if nd > 19 {
		// The mantissa may have overflowed, unless leading zeros made up
		// the difference: count again, slowly.
		if man, ok = significant(b); !ok {
			return 0, 0, false, false
		}
	}
	exp10 = -frac
	if i == len(b) {
		return man, exp10, neg, true
	}
	e, ok := exponent(b[i:])
	if !ok {
		return 0, 0, false, false
	}
	return man, exp10 + e, neg, true
}

// significant reads the mantissa digits of b again, skipping leading zeros,
// and fails past 19 significant digits.
func significant(b []byte) (uint64, bool) {
	var man uint64
	sig := 0
	for _, c := range b {
		switch {
		case c == '-' || c == '.':
			continue
		case c < '0' || c > '9':
			return man, true
		case sig == 0 && c == '0':
			continue
		}
		if sig++; sig > 19 {
			return 0, false
		}
		man = man*10 + uint64(c-'0')
	}
	return man, true
}

// exponent reads (e|E)[+-]digits, at most three digits.
func exponent(b []byte) (int, bool) {
	if len(b) < 2 || (b[0] != 'e' && b[0] != 'E') {
		return 0, false
	}
	b = b[1:]
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 3 {
		return 0, false
	}
	e := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		e = e*10 + int(c-'0')
	}
	if neg {
		e = -e
	}
	return e, true
}

// parseFloat parses a float field value exactly as strconv.ParseFloat
// (which the line-protocol decoder uses), NaN and infinities rejected.
func parseFloat(b []byte) (float64, error) {
	if man, exp10, neg, ok := decimal(b); ok {
		if f, ok := exactDecimal(man, exp10); ok {
			if neg {
				f = -f
			}
			return f, nil
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errValueOutOfRange
		}
		return 0, errInvalidFloat
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errNonNumber
	}
	return f, nil
}

// exactDecimal returns man * 10^exp10 correctly rounded, when it can prove
// the result: exact operands (Clinger's fast path), or a division whose
// quotient it checks with 128-bit integer arithmetic.
func exactDecimal(man uint64, exp10 int) (float64, bool) {
	switch {
	case man == 0:
		return 0, true
	case exp10 >= 0:
		if exp10 >= len(pow10) {
			return 0, false
		}
		hi, lo := bits.Mul64(man, pow10[exp10])
		if hi != 0 {
			return 0, false
		}
		return float64(lo), true // uint64 to float64 rounds to nearest even
	case exp10 < -(len(pow10) - 1):
		return 0, false
	}
	d := pow10[-exp10]
	if man < 1<<53 && d < 1<<53 {
		return float64(man) / float64(d), true // both exact: one correct rounding
	}
	f := float64(man) / float64(d) // two roundings: within a unit of the right answer
	for range 3 {
		c, ok := checkQuotient(man, d, f)
		switch {
		case !ok:
			return 0, false
		case c == 0:
			return f, true
		case c > 0:
			f = math.Nextafter(f, math.Inf(1))
		default:
			f = math.Nextafter(f, 0)
		}
	}
	return 0, false
}

// checkQuotient reports whether f is man/d rounded to nearest even: 0 if
// it is, +1 if the correct float is above f, -1 if below. ok is false when
// f is outside what the check covers: it must be normal and in [2^-10, 2^53),
// so that f = F * 2^E with -E in [1, 62].
//
// With x = man/d, f is right iff |x - F*2^E| <= 2^(E-1), ties to even F.
// Multiplying by 2*d*2^-E: |2*man*2^-E - 2*F*d| <= d, all integers below
// 2^128.
func checkQuotient(man, d uint64, f float64) (c int, ok bool) {
	fb := math.Float64bits(f)
	bexp := int(fb>>52) & 0x7ff
	F := fb&(1<<52-1) | 1<<52
	shift := 1075 - bexp // -E
	if bexp == 0 || shift < 1 || shift > 62 {
		return 0, false
	}
	// a = 2*man << shift; b = 2*F*d.
	aHi, aLo := man>>(64-shift-1), man<<(shift+1)
	bHi, bLo := bits.Mul64(2*F, d)
	var dHi, dLo uint64
	sign := 1
	if aHi > bHi || (aHi == bHi && aLo >= bLo) {
		var borrow uint64
		dLo, borrow = bits.Sub64(aLo, bLo, 0)
		dHi, _ = bits.Sub64(aHi, bHi, borrow)
	} else {
		var borrow uint64
		dLo, borrow = bits.Sub64(bLo, aLo, 0)
		dHi, _ = bits.Sub64(bHi, aHi, borrow)
		sign = -1
	}
	switch {
	case dHi == 0 && dLo < d:
		return 0, true
	case dHi == 0 && dLo == d && F&1 == 0:
		return 0, true // a tie, and F is even
	}
	return sign, true
}

// Errors of field values, worded as the line-protocol decoder words them.
var (
	errValueOutOfRange = errors.New("value out of range")
	errInvalidFloat    = errors.New("invalid float value syntax")
	errInvalidInt      = errors.New("invalid integer value syntax")
	errInvalidUint     = errors.New("invalid unsigned integer value syntax")
	errInvalidBool     = errors.New("invalid bool value")
	errNonNumber       = errors.New("non-number cannot be represented as a line-protocol field value")
)
