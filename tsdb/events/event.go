package events

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"time"
)

// Event is one stored event.
type Event struct {
	// ID identifies the event for deduplication: the EventBridge id, or a
	// hash the caller computed. It must not be empty.
	ID string
	// Time is when the event happened; it picks the day file.
	Time time.Time
	// Body is the event as one JSON object (canonical: what searches
	// return as stored). Append does not retain it.
	Body []byte
}

// Found is one event a search returned; its Body is the caller's.
type Found struct {
	ID   string
	Time time.Time
	Body json.RawMessage
}

// The key of an event: its time in ns, sign-flipped so that negative
// times sort first, then the bucket sequence.
const keyLen = 16

func eventKey(t int64, seq uint64) []byte {
	k := make([]byte, keyLen)
	binary.BigEndian.PutUint64(k, uint64(t)^(1<<63))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

func keyTime(k []byte) int64 { return int64(binary.BigEndian.Uint64(k) ^ (1 << 63)) }
func keySeq(k []byte) uint64 { return binary.BigEndian.Uint64(k[8:]) }

// idHash is the key of an ID in the ids bucket.
func idHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:16]
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord returns an events bucket value for key k.
func encodeRecord(k []byte, id string, body []byte) []byte {
	v := make([]byte, 4, 4+binary.MaxVarintLen64+len(id)+len(body))
	v = binary.AppendUvarint(v, uint64(len(id)))
	v = append(v, id...)
	v = append(v, body...)
	c := crc32.Update(crc32.Checksum(k, castagnoli), castagnoli, v[4:])
	binary.LittleEndian.PutUint32(v, c)
	return v
}

// decodeRecord splits a value; ok is false when its CRC or framing fails.
// id and body alias v.
func decodeRecord(k, v []byte) (id, body []byte, ok bool) {
	if len(v) < 5 {
		return nil, nil, false
	}
	c := crc32.Update(crc32.Checksum(k, castagnoli), castagnoli, v[4:])
	if binary.LittleEndian.Uint32(v) != c {
		return nil, nil, false
	}
	n, w := binary.Uvarint(v[4:])
	if w <= 0 || n > uint64(len(v)-4-w) {
		return nil, nil, false
	}
	rest := v[4+w:]
	return rest[:n], rest[n:], true
}

// dayOf is the UTC day number of t (ns since the epoch).
func dayOf(t int64) int64 {
	d := t / int64(24*time.Hour)
	if t < 0 && t%int64(24*time.Hour) != 0 {
		d--
	}
	return d
}

func dayName(d int64) string {
	return time.Unix(d*86400, 0).UTC().Format("2006-01-02") + ".db"
}
