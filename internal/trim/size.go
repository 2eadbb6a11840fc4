package trim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Defaults, used when GROVE_MAX_SIZE and GROVE_MAX_AGE are unset. The size
// is sccache's default cap (10 GiB): a few full builds of a large workspace
// in every profile, small next to the target dirs it saves. Only bytes the
// store alone holds count: what target dirs still hardlink costs nothing
// extra. The age is a month: an entry nobody restored for 30 days belongs
// to a branch nobody builds (Go's build cache keeps 5 days, but a Rust
// compile costs far more than a Go one to redo).
const (
	DefaultMaxSize = 10 << 30
	DefaultMaxAge  = 30 * 24 * time.Hour
)

// ParseSize reads a size such as 500MB, 20GiB, 1.5G or 4096 (bytes). It
// refuses what is not a positive whole number of bytes: NaN, Inf, negative
// or zero sizes, sizes below one byte and sizes beyond int64.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	num, mult := strings.ToUpper(in), 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || strings.ContainsAny(num, "xXpP_") {
		return 0, fmt.Errorf("bad size %q (want e.g. 20GiB)", s)
	}
	b := n * mult
	switch {
	case b < 1:
		return 0, fmt.Errorf("bad size %q: must be at least 1 byte", s)
	case b >= math.MaxInt64:
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	return int64(b), nil
}

// ParseAge reads a duration such as 720h or 30d (days).
func ParseAge(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(in, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err == nil && n > 0 && n < 100*365 {
			return time.Duration(n * float64(24*time.Hour)), nil
		}
	} else if d, err := time.ParseDuration(in); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("bad age %q (want e.g. 720h or 30d)", s)
}

// Limits returns the bounds the automatic trim applies: GROVE_MAX_SIZE and
// GROVE_MAX_AGE (as settings reads them), else the defaults.
func Limits(maxSize, maxAge string) (int64, time.Duration, error) {
	size, age := int64(DefaultMaxSize), DefaultMaxAge
	var err error
	if strings.TrimSpace(maxSize) != "" {
		if size, err = ParseSize(maxSize); err != nil {
			return 0, 0, fmt.Errorf("GROVE_MAX_SIZE: %w", err)
		}
	}
	if strings.TrimSpace(maxAge) != "" {
		if age, err = ParseAge(maxAge); err != nil {
			return 0, 0, fmt.Errorf("GROVE_MAX_AGE: %w", err)
		}
	}
	return size, age, nil
}
