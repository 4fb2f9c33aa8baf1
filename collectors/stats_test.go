package collectors

import (
	"sync"
	"testing"
)

func TestStats_Reject_Concurrent(t *testing.T) {
	s := NewStats("x")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				s.Reject("lines", "parse", 1)
				s.Reject("samples", "nan", 2)
			}
		})
	}
	wg.Wait()
	got := s.Rejections()
	if len(got) != 2 || got[0] != (Rejection{"lines", "parse", 8000}) || got[1] != (Rejection{"samples", "nan", 16000}) {
		t.Fatalf("got %v", got)
	}
}
