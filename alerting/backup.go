package alerting

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// CopyState writes a consistent copy of alerting.db (alert state, flatline
// groups, history, acks, silences, outbox) to path through a bbolt read
// transaction, for snapshots taken while the evaluator runs.
func (a *API) CopyState(path string) error {
	err := a.m.st.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(path, 0o644) })
	if err != nil {
		return fmt.Errorf("copy alerting.db: %w", err)
	}
	return nil
}
