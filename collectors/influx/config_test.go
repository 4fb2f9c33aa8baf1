package influx

import (
	"strings"
	"testing"
)

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if got := DefaultConfig().MaxLineBytes; got != 256<<10 {
		t.Fatalf("default max_line_bytes %d", got)
	}
	for _, n := range []int{0, -1, 1023, 64<<20 + 1} {
		err := Config{MaxLineBytes: n}.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "influx.max_line_bytes: ") {
			t.Errorf("max_line_bytes %d: err %v, want one naming the key", n, err)
		}
	}
}
