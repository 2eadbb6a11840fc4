package trim

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{"1": 1, "4096": 4096, "500MB": 500e6, "20GiB": 20 << 30, "1.5k": 1536, " 2 G ": 2 << 30, "10gib": 10 << 30}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0B", "-1", "0.5", "0.4B", "NaN", "nan", "Inf", "+Inf", "-inf", "infinity", "1e400", "9223372036854775807", "8EiB", "9999999999TiB", "0x10", "1_000", "ten", "1 GB GB"} {
		got, err := ParseSize(in)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSize(%q): error of several lines: %q", in, err)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"720h": 720 * time.Hour, "30d": 30 * 24 * time.Hour, "1.5d": 36 * time.Hour} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-1h", "d", "NaNd", "1e9d", "soon"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q): no error", in)
		}
	}
}
