package report

import "strconv"

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
