package report

import (
	"fmt"
	"strconv"
)

// Bytes formats n with binary units (1.5 GiB), as du -h does.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Seconds formats a duration in seconds with a precision that suits its
// size: 0.123 s, 5.42 s, 78.1 s, 204 s.
func Seconds(s float64) string {
	switch {
	case s < 1:
		return strconv.FormatFloat(s, 'f', 3, 64) + " s"
	case s < 10:
		return strconv.FormatFloat(s, 'f', 2, 64) + " s"
	case s < 100:
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	default:
		return strconv.FormatFloat(s, 'f', 0, 64) + " s"
	}
}

// RatioString formats a ratio as 0.08×, or "-" when there is none.
func RatioString(r *float64) string {
	if r == nil {
		return "-"
	}
	if *r < 10 {
		return strconv.FormatFloat(*r, 'f', 2, 64) + "×"
	}
	return strconv.FormatFloat(*r, 'f', 1, 64) + "×"
}

// count formats a median count: whole numbers without decimals.
func count(x float64) string {
	if x == float64(int64(x)) {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}
