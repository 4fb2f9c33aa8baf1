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
	if got := DefaultConfig().MaxInflightBytes; got != 32<<20 || got/RequestBytes(DefaultMaxLineBytes) != 8 {
		t.Fatalf("default max_inflight_bytes %d: %d requests at once", got, got/RequestBytes(DefaultMaxLineBytes))
	}
	for _, n := range []int{0, -1, 1023, 64<<20 + 1} {
		err := Config{MaxLineBytes: n, MaxInflightBytes: 1 << 40}.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "influx.max_line_bytes: ") {
			t.Errorf("max_line_bytes %d: err %v, want one naming the key", n, err)
		}
	}
	for _, c := range []Config{
		{MaxLineBytes: 256 << 10, MaxInflightBytes: 4<<20 - 1},
		{MaxLineBytes: 64 << 20, MaxInflightBytes: 64 << 20},
		{MaxLineBytes: 1024, MaxInflightBytes: 1<<40 + 1},
	} {
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "influx.max_inflight_bytes: ") {
			t.Errorf("%+v: err %v, want one naming influx.max_inflight_bytes", c, err)
		}
	}
}
