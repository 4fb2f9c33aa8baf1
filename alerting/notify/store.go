package notify

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The package's bbolt buckets; doc.go shows what they hold. These are
// names, never written.
var (
	bucketMeta     = []byte("notify_meta")
	bucketSilences = []byte("notify_silences")
	bucketLog      = []byte("notify_nflog")
	bucketOutbox   = []byte("notify_outbox")
)

// keyDBID is the notify_meta key of the database's random ID, the first
// part of every notification ID.
var keyDBID = []byte("db_id")

// initBuckets creates the buckets that are missing and returns the
// database ID, creating it on first use.
func initBuckets(db *bolt.DB) (string, error) {
	var id string
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketSilences, bucketLog, bucketOutbox} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyDBID); v != nil {
			id = string(v)
			return nil
		}
		var b [4]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
		return meta.Put(keyDBID, []byte(id))
	})
	if err != nil {
		return "", fmt.Errorf("init notify buckets: %w", err)
	}
	return id, nil
}

// nextNotificationID takes the next notification number from notify_meta's
// sequence and returns the ID, <db id>-<number as 16 hex digits>: unique
// across restarts, and across databases, so a receiver that deduplicates
// on it is not fooled by a new file that counts from 1 again.
func nextNotificationID(tx *bolt.Tx, dbID string) (string, error) {
	seq, err := tx.Bucket(bucketMeta).NextSequence()
	if err != nil {
		return "", fmt.Errorf("next notification id: %w", err)
	}
	return fmt.Sprintf("%s-%016x", dbID, seq), nil
}

// seqKey encodes an outbox sequence so that byte order is insertion order.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}
