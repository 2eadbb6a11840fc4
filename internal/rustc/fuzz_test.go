package rustc

import (
	"strings"
	"testing"
)

// FuzzParse feeds command lines shaped like Cargo's (seeded from real ones)
// to the model. It must never panic, and whatever it calls cacheable must
// name what the wrapper relies on: a crate name, an input, an out dir and
// predictable output names.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{cargoLib, cargoBin, "-vV", "- --crate-name ___ --print=file-names --crate-type bin",
		strings.Replace(cargoBin, "--crate-type bin", "--test", 1), cargoLib + " -l static:+verbatim=libx.a -Lnative=/x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		inv := Parse("/t/bin/rustc", args)
		_ = SplitOptions(args)
		if !inv.Cacheable() {
			return
		}
		if inv.CrateName == "" || inv.Input == "" || inv.OutDir == "" {
			t.Fatalf("cacheable without crate name, input or out dir: %q", line)
		}
		if _, err := inv.OutputNames(); err != nil {
			t.Fatalf("cacheable but no output names (%v): %q", err, line)
		}
	})
}
