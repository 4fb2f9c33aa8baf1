package pages

import (
	"math"
	"strconv"
	"strings"

	"outpost/query"
)

// thresholdColor returns the CSS colour of threshold i of ts: its own, or
// by order of value (orange for the lowest, red above), as the
// Threshold type promises.
func thresholdColor(ts []Threshold, i int) string {
	if c := ts[i].Color; c != "" {
		if p := palette[c]; p != "" {
			return p
		}
		return c
	}
	if thresholdRank(ts, i) == 0 {
		return palette["orange"]
	}
	return palette["red"]
}

// thresholdRank is the position of threshold i when ts is sorted by value.
func thresholdRank(ts []Threshold, i int) int {
	n := 0
	for j, t := range ts {
		if t.Value < ts[i].Value || t.Value == ts[i].Value && j < i {
			n++
		}
	}
	return n
}

// thresholdClass returns the class of a stat value: that of the highest
// threshold v reaches (c-NAME for a palette colour; c-orange or c-red by
// order otherwise, as a page cannot carry an inline colour), or "" below
// them all.
func thresholdClass(v float64, ts []Threshold) string {
	best := -1
	for i, t := range ts {
		if v >= t.Value && (best < 0 || t.Value >= ts[best].Value) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	if c := ts[best].Color; palette[c] != "" {
		if c == "grey" {
			c = "gray"
		}
		return "c-" + c
	}
	if thresholdRank(ts, best) == 0 {
		return "c-orange"
	}
	return "c-red"
}

// formatUnit prints v in a panel's unit, as outpost.js does on the charts.
func formatUnit(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return query.FormatValue(v)
	}
	switch unit {
	case "percent":
		return trimFloat(v, 3) + "%"
	case "bytes":
		return scaledUnit(v, 1024, []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"})
	case "bytes/s":
		return scaledUnit(v, 1024, []string{"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s"})
	case "bits/s":
		return scaledUnit(v, 1000, []string{"b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s", "Pb/s"})
	case "s":
		return formatSeconds(v)
	case "short":
		return scaledUnit(v, 1000, []string{"", "K", "M", "G", "T", "P"})
	}
	return formatValue(v)
}

// scaledUnit divides v by base until it is below base and names the step.
func scaledUnit(v, base float64, names []string) string {
	i := 0
	for math.Abs(v) >= base && i < len(names)-1 {
		v /= base
		i++
	}
	return strings.TrimSpace(trimFloat(v, 3) + " " + names[i])
}

// trimFloat prints v with about digits significant digits, no exponent
// below 1e15 and no trailing zeros.
func trimFloat(v float64, digits int) string {
	a := math.Abs(v)
	if a >= 1e15 || a != 0 && a < 1e-3 {
		return strconv.FormatFloat(v, 'g', digits, 64)
	}
	dec := 0
	for p := math.Pow(10, float64(digits-1)); a < p && dec < digits+2; p /= 10 {
		dec++
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatSeconds prints a duration in seconds as 250 ms, 42 s, 5m 3s,
// 4h 10m or 3d 4h.
func formatSeconds(v float64) string {
	a := math.Abs(v)
	sign := ""
	if v < 0 {
		sign = "-"
	}
	switch {
	case a < 1:
		return sign + trimFloat(a*1000, 3) + " ms"
	case a < 60:
		return sign + trimFloat(a, 3) + " s"
	}
	s := int64(a)
	parts := [...]int64{s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60}
	names := [...]string{"d", "h", "m", "s"}
	i := 0
	for parts[i] == 0 {
		i++ // a >= 60: one of d, h, m is not 0
	}
	out := sign + strconv.FormatInt(parts[i], 10) + names[i]
	if i+1 < len(parts) && parts[i+1] > 0 {
		out += " " + strconv.FormatInt(parts[i+1], 10) + names[i+1]
	}
	return out
}
