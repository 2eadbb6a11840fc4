package key

import (
	"os"
	"path/filepath"
	"testing"
)

// The env mark of a unit matches a seeding environment only when every
// variable grove keys beyond Cargo's fingerprint is the same there, set or
// unset, and a GROVE_EXTRA_ENV name of either side counts.
func TestEnvMarkMatches(t *testing.T) {
	for _, c := range []struct {
		name    string
		built   map[string]string
		extra   map[string]bool // GROVE_EXTRA_ENV where it was built
		seeding map[string]string
		extraS  []string // GROVE_EXTRA_ENV where the seed runs
		want    bool
	}{
		{"nothing set either side", map[string]string{"HOME": "/a"}, nil, map[string]string{"HOME": "/b"}, nil, true},
		{"Cargo's own variables are Cargo's", map[string]string{"CARGO_PKG_NAME": "x", "OUT_DIR": "/a"}, nil, map[string]string{"OUT_DIR": "/b"}, nil, true},
		{"same LIBRARY_PATH", map[string]string{"LIBRARY_PATH": "/l"}, nil, map[string]string{"LIBRARY_PATH": "/l"}, nil, true},
		{"LIBRARY_PATH differs", map[string]string{"LIBRARY_PATH": "/l"}, nil, map[string]string{"LIBRARY_PATH": "/m"}, nil, false},
		{"set where built, unset here", map[string]string{"RUSTC_BOOTSTRAP": "1"}, nil, map[string]string{}, nil, false},
		{"unset where built, set here", map[string]string{}, nil, map[string]string{"SDKROOT": "/sdk"}, nil, false},
		{"extra env differs", map[string]string{"APP_DATA": "1"}, map[string]bool{"APP_DATA": true}, map[string]string{"APP_DATA": "2"}, []string{"APP_DATA"}, false},
		{"extra env declared only where built", map[string]string{"APP_DATA": "1"}, map[string]bool{"APP_DATA": true}, map[string]string{"APP_DATA": "2"}, nil, false},
		{"extra env declared only here", map[string]string{"APP_DATA": "1"}, nil, map[string]string{"APP_DATA": "2"}, []string{"APP_DATA"}, false},
		{"extra env the same", map[string]string{"APP_DATA": "1"}, map[string]bool{"APP_DATA": true}, map[string]string{"APP_DATA": "1"}, []string{"APP_DATA"}, true},
	} {
		mark := filepath.Join(t.TempDir(), EnvMarkName("x-1.d"))
		if err := os.WriteFile(mark, envMark(c.built, c.extra), 0o644); err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range c.seeding {
			names = append(names, k)
		}
		lookup := func(k string) (string, bool) { v, ok := c.seeding[k]; return v, ok }
		if got := EnvMarkMatches(mark, names, lookup, c.extraS); got != c.want {
			t.Errorf("%s: EnvMarkMatches = %v, want %v", c.name, got, c.want)
		}
	}
	if EnvMarkMatches(filepath.Join(t.TempDir(), "none.groveenv"), nil, func(string) (string, bool) { return "", false }, nil) {
		t.Error("a unit without a mark matched")
	}
}
