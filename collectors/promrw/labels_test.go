package promrw

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"outpost/tsdb"
)

func TestNormalize(t *testing.T) {
	many := []string{"__name__", "m"}
	for i := range MaxLabels {
		many = append(many, "l"+strconv.Itoa(i), "v")
	}
	for _, tc := range []struct {
		name string
		in   []tsdb.Label
		want string // the normalized labels, or the error's text
		err  bool
	}{
		{"sorted", ls("__name__", "up", "a", "1", "b", "2"), `up{a="1", b="2"}`, false},
		{"unsorted", ls("z", "1", "__name__", "up", "a", "2"), `up{a="2", z="1"}`, false},
		{"empty value dropped", ls("__name__", "up", "a", "", "b", "2"), `up{b="2"}`, false},
		{"utf-8 names", ls("__name__", "http.server.duration", "service.name", "api"), `http.server.duration{service.name="api"}`, false},
		{"empty name, empty value", ls("__name__", "up", "", ""), `up{}`, false},
		{"no metric name", ls("a", "1"), "no metric name", true},
		{"empty metric name", ls("__name__", "", "a", "1"), "no metric name", true},
		{"empty label name", ls("__name__", "up", "", "x"), "empty label name", true},
		{"control character", ls("__name__", "up", "a\nb", "x"), `label name "a\nb" holds a control character`, true},
		{"duplicate", ls("__name__", "up", "a", "1", "a", "2"), `label name "a" given twice`, true},
		{"duplicate metric name", ls("__name__", "up", "__name__", "down"), `label name "__name__" given twice`, true},
		{"too many", ls(many...), "257 labels, the limit is 256", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(append(tsdb.Labels(nil), tc.in...))
			switch {
			case tc.err && (err == nil || !errors.Is(err, ErrInvalidLabels) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want ErrInvalidLabels with %q", err, tc.want)
			case !tc.err && err != nil:
				t.Fatalf("error %v", err)
			case !tc.err && got.String() != tc.want:
				t.Fatalf("got %s, want %s", got, tc.want)
			case !tc.err && got.Validate() != nil:
				t.Fatalf("normalized labels %v fail tsdb's checks: %v", got, got.Validate())
			}
		})
	}
}

func TestSeriesError_Text(t *testing.T) {
	long := strings.Repeat("é", 400)
	e := seriesError("series 3", tsdb.Labels{{Name: "__name__", Value: "up"}, {Name: "a", Value: long}}, ErrInvalidLabels)
	if !strings.HasPrefix(e.Error(), `series 3 up{a="ééé`) || !strings.HasSuffix(e.Labels, "...") || len(e.Labels) > maxSeriesText+3 {
		t.Fatalf("error %q", e.Error())
	}
	e = seriesError("line 2", tsdb.Labels{{Name: "a", Value: "1"}}, ErrInvalidLabels)
	if e.Error() != `line 2 (no metric name){a="1"}: invalid labels` {
		t.Fatalf("error %q", e.Error())
	}
}
