package collectors

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBudget_TryAcquire(t *testing.T) {
	b := NewBudget(100)
	if !b.TryAcquire(60) || !b.TryAcquire(40) {
		t.Fatal("60 + 40 of 100 refused")
	}
	if b.TryAcquire(1) {
		t.Fatal("a byte past the budget granted")
	}
	b.Release(40)
	if !b.TryAcquire(30) {
		t.Fatal("30 of the 40 given back refused")
	}
	b.Release(90)
	if u := b.Usage(); u != (BudgetUsage{Max: 100, Used: 0, Peak: 100, Waits: 0}) {
		t.Fatalf("usage %+v", u)
	}
}

func TestBudget_Acquire_InTurn(t *testing.T) {
	b := NewBudget(100)
	if !b.TryAcquire(100) {
		t.Fatal("the whole budget refused")
	}
	got := make(chan int64, 2)
	var wg sync.WaitGroup
	acquire := func(n int64) {
		wg.Go(func() {
			if err := b.Acquire(context.Background(), n); err != nil {
				t.Errorf("Acquire(%d): %v", n, err)
				return
			}
			got <- n
		})
	}
	acquire(80)
	waitUntil(t, "the first waiter", b.Contended)
	acquire(10)
	waitUntil(t, "the second waiter", func() bool { return b.Usage().Waits == 2 })
	if b.TryAcquire(1) {
		t.Fatal("TryAcquire went ahead of the waiters")
	}
	b.Release(20) // 20 free: not enough for the first waiter, so nobody is served
	if u := b.Usage(); u.Used != 80 || b.waiting.Load() != 2 {
		t.Fatalf("after giving back 20: usage %+v, %d waiting; want 80 used, 2 waiting", u, b.waiting.Load())
	}
	b.Release(80) // 100 free: both fit
	wg.Wait()
	if a, c := <-got, <-got; a+c != 90 {
		t.Fatalf("granted %d and %d, want 80 and 10", a, c)
	}
	if b.Contended() {
		t.Fatal("still contended")
	}
	b.Release(90)
	if u := b.Usage(); u.Used != 0 || u.Peak != 100 || u.Waits != 2 {
		t.Fatalf("usage %+v", u)
	}
}

func TestBudget_Acquire_Cancelled(t *testing.T) {
	b := NewBudget(100)
	b.TryAcquire(50)
	ctx, cancel := context.WithCancel(context.Background())
	big := make(chan error, 1)
	go func() { big <- b.Acquire(ctx, 80) }()
	waitUntil(t, "the waiter", b.Contended)
	small := make(chan error, 1)
	go func() { small <- b.Acquire(context.Background(), 30) }()
	waitUntil(t, "the second waiter", func() bool { return b.Usage().Waits == 2 })
	cancel() // the head of the queue leaves: the 30 behind it fits at once
	if err := <-big; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire: %v", err)
	}
	if err := <-small; err != nil {
		t.Fatalf("Acquire behind the cancelled one: %v", err)
	}
	if u := b.Usage(); u.Used != 80 || b.Contended() {
		t.Fatalf("usage %+v, contended %v; want 80 used, none waiting", u, b.Contended())
	}
	if err := b.Acquire(context.Background(), 101); !errors.Is(err, ErrExceedsBudget) {
		t.Fatalf("Acquire over the budget: %v", err)
	}
}

// TestBudget_Concurrent hammers one budget from many goroutines: the
// high-water mark never passes the budget and everything comes back.
func TestBudget_Concurrent(t *testing.T) {
	b := NewBudget(1000)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			n := int64(1 + g*37%300)
			for i := range 500 {
				if i%2 == 0 {
					if !b.TryAcquire(n) {
						continue
					}
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%3)*time.Millisecond)
					err := b.Acquire(ctx, n)
					cancel()
					if err != nil {
						continue
					}
				}
				b.Release(n)
			}
		})
	}
	wg.Wait()
	if u := b.Usage(); u.Used != 0 || u.Peak > u.Max || b.Contended() {
		t.Fatalf("usage %+v, contended %v", u, b.Contended())
	}
}
