package rulefile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The number and time functions of Prometheus' templates. Each takes a
// number, a numeric string or a time.Duration (seconds), as Prometheus'
// do, and formats with four significant digits ("%.4g").

// errNaNOrInf is returned by toTime and toDuration for NaN and ±Inf.
var errNaNOrInf = errors.New("value is NaN or Inf")

// toFloat converts a template argument to a number.
func toFloat(i any) (float64, error) {
	switch v := i.(type) {
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case int32:
		return float64(v), nil
	case uint:
		return float64(v), nil
	case uint64:
		return float64(v), nil
	case uint32:
		return float64(v), nil
	case time.Duration:
		return v.Seconds(), nil
	case string:
		return strconv.ParseFloat(v, 64)
	}
	return 0, fmt.Errorf("can't convert %T to float", i)
}

// humanize formats a number with an SI prefix: 1234567 is "1.235M",
// 0.12 is "120m".
func humanize(i any) (string, error) {
	v, err := toFloat(i)
	if err != nil {
		return "", err
	}
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	return scaled(v, 1000, []string{"k", "M", "G", "T", "P", "E", "Z", "Y"},
		[]string{"m", "u", "n", "p", "f", "a", "z", "y"}), nil
}

// scaled divides v by base while it is at least base (or multiplies it
// while it is below 1), and writes it with the prefix reached.
func scaled(v, base float64, up, down []string) string {
	prefix := ""
	if math.Abs(v) >= 1 {
		for _, p := range up {
			if math.Abs(v) < base {
				break
			}
			prefix, v = p, v/base
		}
	} else {
		for _, p := range down {
			if math.Abs(v) >= 1 {
				break
			}
			prefix, v = p, v*base
		}
	}
	return fmt.Sprintf("%.4g%s", v, prefix)
}

// humanize1024 formats a number with a binary prefix: 1048576 is "1Mi";
// values of magnitude up to 1 are left as they are.
func humanize1024(i any) (string, error) {
	v, err := toFloat(i)
	if err != nil {
		return "", err
	}
	if math.Abs(v) <= 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	return scaled(v, 1024, []string{"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}, nil), nil
}

// humanizeDuration formats seconds: "1d 2h 3m 4s" down to whole seconds
// from a minute up, "1.234s" below, "100ms" and "100us" below a second.
func humanizeDuration(i any) (string, error) {
	v, err := toFloat(i)
	if err != nil {
		return "", err
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprintf("%.4g", v), nil
	case v == 0:
		return "0s", nil
	case math.Abs(v) < 1:
		return scaled(v, 1000, nil, []string{"m", "u", "n", "p", "f", "a", "z", "y"}) + "s", nil
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	secs := int64(v)
	s, m, h, d := secs%60, secs/60%60, secs/3600%24, secs/86400
	switch {
	case d != 0:
		return fmt.Sprintf("%s%dd %dh %dm %ds", sign, d, h, m, s), nil
	case h != 0:
		return fmt.Sprintf("%s%dh %dm %ds", sign, h, m, s), nil
	case m != 0:
		return fmt.Sprintf("%s%dm %ds", sign, m, s), nil
	}
	return fmt.Sprintf("%s%.4gs", sign, v), nil
}

// humanizePercentage formats a ratio as a percentage: 0.1234567 is
// "12.35%".
func humanizePercentage(i any) (string, error) {
	v, err := toFloat(i)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%.4g%%", v*100), nil
}

// humanizeTimestamp formats Unix seconds as a UTC time, to the
// millisecond: 1435065584.128 is "2015-06-23 13:19:44.128 +0000 UTC".
func humanizeTimestamp(i any) (string, error) {
	v, err := toFloat(i)
	if err != nil {
		return "", err
	}
	t, err := floatToTime(v)
	if errors.Is(err, errNaNOrInf) {
		return fmt.Sprintf("%.4g", v), nil
	}
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// toTime converts Unix seconds to a UTC time.Time, to the millisecond.
func toTime(i any) (*time.Time, error) {
	v, err := toFloat(i)
	if err != nil {
		return nil, err
	}
	return floatToTime(v)
}

// floatToTime converts Unix seconds to a time, truncated to milliseconds
// as Prometheus' timestamps are.
func floatToTime(v float64) (*time.Time, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, errNaNOrInf
	}
	ns := v * 1e9
	if ns >= math.MaxInt64 || ns < math.MinInt64 {
		return nil, fmt.Errorf("%v cannot be represented as a nanoseconds timestamp since it overflows int64", v)
	}
	ms := int64(ns) / 1e6
	t := time.Unix(ms/1000, ms%1000*1e6).UTC()
	return &t, nil
}

// toDuration converts seconds to a time.Duration.
func toDuration(i any) (*time.Duration, error) {
	v, err := toFloat(i)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, errNaNOrInf
	}
	ns := v * float64(time.Second)
	if ns >= math.MaxInt64 || ns < math.MinInt64 {
		return nil, fmt.Errorf("%v cannot be represented as a nanoseconds duration since it overflows int64", v)
	}
	d := time.Duration(ns)
	return &d, nil
}

// parseDurationSeconds parses a Prometheus duration ("1h30m") into
// seconds.
func parseDurationSeconds(s string) (float64, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Seconds(), nil
}
