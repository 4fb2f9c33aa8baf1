package pages

import (
	"testing"

	"github.com/go-echarts/go-echarts/v2/opts"

	"outpost/query"
)

// The axis is stretched to thresholds beyond the data, to round numbers.
func TestStretchForThresholds_RoundBounds(t *testing.T) {
	m := func(vs ...float64) query.Matrix {
		s := query.Series{}
		for i, v := range vs {
			s.Points = append(s.Points, query.Point{T: int64(i) * 1000, V: v})
		}
		return query.Matrix{s}
	}
	for _, c := range []struct {
		data       []float64
		thresholds []float64
		min, max   any
	}{
		{[]float64{50, 60}, []float64{80, 90}, nil, 92.0},         // pad 2
		{[]float64{0.5, 0.61}, []float64{0.3}, 0.28, nil},         // pad 0.0155
		{[]float64{26.1, 29.3}, []float64{24.43, 30}, 24.1, 30.3}, // pad 0.2785: tenths
		{[]float64{10, 20}, []float64{15}, nil, nil},              // inside the data
	} {
		var y opts.YAxis
		spec := lineSpec{}
		for _, v := range c.thresholds {
			spec.Thresholds = append(spec.Thresholds, Threshold{Value: v})
		}
		stretchForThresholds(&y, spec, m(c.data...))
		if y.Min != c.min || y.Max != c.max {
			t.Errorf("data %v thresholds %v: min %v max %v, want %v %v", c.data, c.thresholds, y.Min, y.Max, c.min, c.max)
		}
	}
}
