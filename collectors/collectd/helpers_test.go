package collectd

import (
	"context"
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"outpost/collectors"
	"outpost/tsdb"
)

// sharedIngest is the peer test data, beside the project root.
const sharedIngest = "../../../shared/conformance/ingest"

// sharedPath returns a path below ../shared/conformance/ingest, or skips
// the test when it is absent.
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedIngest, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("peer test data absent: %v", err)
	}
	return p
}

// --- a small encoder of the wire format, for building test packets ---

func strPart(typ uint16, s string) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(s)+1))
	b = append(b, s...)
	return append(b, 0)
}

func numPart(typ uint16, v uint64) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, 12)
	return binary.BigEndian.AppendUint64(b, v)
}

func valuesPart(vals ...Value) []byte {
	b := binary.BigEndian.AppendUint16(nil, partValues)
	b = binary.BigEndian.AppendUint16(b, uint16(6+9*len(vals)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(vals)))
	for _, v := range vals {
		b = append(b, byte(v.Type))
	}
	for _, v := range vals {
		if v.Type == Gauge {
			b = binary.LittleEndian.AppendUint64(b, v.Bits)
		} else {
			b = binary.BigEndian.AppendUint64(b, v.Bits)
		}
	}
	return b
}

func gauge(f float64) Value  { return Value{Type: Gauge, Bits: math.Float64bits(f)} }
func derive(i int64) Value   { return Value{Type: Derive, Bits: uint64(i)} }
func counter(u uint64) Value { return Value{Type: Counter, Bits: u} }
func absolute(u uint64) Value {
	return Value{Type: Absolute, Bits: u}
}

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

// signPacket prepends a signature part to payload, as collectd's client.
func signPacket(user, password string, payload []byte) []byte {
	mac := hmac.New(sha256.New, []byte(password))
	mac.Write([]byte(user))
	mac.Write(payload)
	b := binary.BigEndian.AppendUint16(nil, partSignSHA256)
	b = binary.BigEndian.AppendUint16(b, uint16(signHeaderLen+len(user)))
	b = mac.Sum(b)
	b = append(b, user...)
	return append(b, payload...)
}

// encryptPacket wraps payload in an encryption part with the given IV.
func encryptPacket(user, password string, iv []byte, payload []byte) []byte {
	key := sha256.Sum256([]byte(password))
	block, _ := aes.NewCipher(key[:])
	sum := sha1.Sum(payload)
	plain := append(sum[:], payload...)
	ct := make([]byte, len(plain))
	xorOFB(block, iv, ct, plain, new([16]byte))
	b := binary.BigEndian.AppendUint16(nil, partEncrAES256)
	b = binary.BigEndian.AppendUint16(b, uint16(encrHeaderLen+len(user)+len(payload)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(user)))
	b = append(b, user...)
	b = append(b, iv...)
	return append(b, ct...)
}

// users is a PasswordLookup over a map.
type users map[string]string

func (u users) Password(user string) (string, bool) {
	pw, ok := u[user]
	return pw, ok
}

// parseAll decodes pkt and returns deep copies of its value lists.
func parseAll(p *Parser, pkt []byte) ([]ValueList, Result, error) {
	var out []ValueList
	res, err := p.Parse(pkt, func(vl *ValueList) {
		c := *vl
		c.Values = slices.Clone(vl.Values)
		out = append(out, c)
	})
	return out, res, err
}

// --- the one fake: a recording collectors.Writer ---

// recordingWriter records the points written to it. errs, when set, is
// returned by the successive calls (nil entries succeed); after it runs
// out, calls succeed.
type recordingWriter struct {
	mu    sync.Mutex
	pts   []tsdb.Point
	calls int
	errs  []error
	block chan struct{} // when set, Write waits for it to be closed
	count bool          // when set, only n counts the points (benchmarks)
	n     int
}

func (w *recordingWriter) Write(ctx context.Context, pts []tsdb.Point) error {
	if w.block != nil {
		select {
		case <-w.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if len(w.errs) > 0 {
		err := w.errs[0]
		w.errs = w.errs[1:]
		if err != nil {
			return err
		}
	}
	w.n += len(pts)
	if w.count {
		return nil
	}
	for _, p := range pts {
		w.pts = append(w.pts, tsdb.Point{Labels: p.Labels.Copy(), T: p.T, V: p.V})
	}
	return nil
}

// points returns a copy of what was written so far.
func (w *recordingWriter) points() []tsdb.Point {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.pts)
}

// find returns the points whose labels include every name/value of want.
func find(pts []tsdb.Point, want ...string) []tsdb.Point {
	var out []tsdb.Point
	for _, p := range pts {
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			if p.Labels.Get(want[i]) != want[i+1] {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// rejected returns the count of what:reason in st.
func rejected(st *collectors.Stats, what, reason string) uint64 {
	for _, r := range st.Rejections() {
		if r.What == what && r.Reason == reason {
			return r.N
		}
	}
	return 0
}

// fmtG formats a float as %g would, with +Inf/-Inf/NaN spelled out.
func fmtG(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
