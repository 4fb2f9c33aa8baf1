package tsdb

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDB_Write_OverloadWait checks how long a Write waits for a slot when
// every write slot is taken: at most a second on its own, and, for the
// Writes that share a WithWriteWait context, at most its budget in all.
func TestDB_Write_OverloadWait(t *testing.T) {
	clock := newTestClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	now := clock.Now().UnixMilli()
	for range maxConcurrentWrites { // every slot taken
		db.writeSem <- struct{}{}
	}
	write := func(ctx context.Context) (time.Duration, error) {
		start := time.Now()
		err := db.Write(ctx, []Point{pt(now, 1, "__name__", "m")})
		return time.Since(start), err
	}
	t.Run("alone", func(t *testing.T) {
		took, err := write(t.Context())
		if !errors.Is(err, ErrOverloaded) || took < maxWriteWait || took > maxWriteWait+time.Second {
			t.Fatalf("err %v after %s, want ErrOverloaded after %s", err, took, maxWriteWait)
		}
	})
	t.Run("shared", func(t *testing.T) {
		ctx := WithWriteWait(t.Context(), 300*time.Millisecond)
		var total time.Duration
		for range 5 { // five batches of one request: 300 ms in all, not 5 s
			took, err := write(ctx)
			if !errors.Is(err, ErrOverloaded) {
				t.Fatalf("err %v, want ErrOverloaded", err)
			}
			total += took
		}
		if total < 300*time.Millisecond || total > 800*time.Millisecond {
			t.Fatalf("five Writes waited %s in all, want 300 ms", total)
		}
	})
	t.Run("none", func(t *testing.T) {
		if took, err := write(WithWriteWait(t.Context(), 0)); !errors.Is(err, ErrOverloaded) || took > 100*time.Millisecond {
			t.Fatalf("err %v after %s, want ErrOverloaded at once", err, took)
		}
	})
	for range maxConcurrentWrites {
		<-db.writeSem
	}
	t.Run("free", func(t *testing.T) { // a spent budget does not refuse a free slot
		ctx := WithWriteWait(t.Context(), 0)
		if _, err := write(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
