package key

import (
	"testing"

	"github.com/grove-rs/grove/internal/rustc"
)

func TestCoverage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--crate-name", "a"}, false},
		{[]string{"-C", "instrument-coverage"}, true},
		{[]string{"-Cinstrument-coverage"}, true},
		{[]string{"--codegen=instrument-coverage=yes"}, true},
		{[]string{"-Cinstrument-coverage=all"}, true},
		{[]string{"-Zinstrument-coverage=except-unused-functions"}, true},
		{[]string{"-Cinstrument-coverage", "-Cinstrument-coverage=off"}, false},
		{[]string{"-Cinstrument-coverage=no", "-C", "instrument-coverage"}, true},
		{[]string{"-C", "opt-level=3"}, false},
	} {
		if got := coverage(tc.args); got != tc.want {
			t.Errorf("coverage(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// An output with no tree path in it is pinned all the same when the unit
// is instrumented for coverage: its coverage map names the tree compressed.
func TestPinsCoverage(t *testing.T) {
	u := pinUnit("/w/a")
	u.Inv = rustc.Parse("rustc", []string{"--crate-name", "app", "-C", "instrument-coverage", "src/main.rs"})
	if got := pinNames(pinsOf(t, u, "app", []byte("no path here"), nil)); got != Cwd+","+Target {
		t.Errorf("pins = %q, want both tree paths", got)
	}
	u.Inv = rustc.Parse("rustc", []string{"--crate-name", "app", "src/main.rs"})
	if got := pinNames(pinsOf(t, u, "app", []byte("no path here"), nil)); got != "" {
		t.Errorf("pins without coverage = %q, want none", got)
	}
}
