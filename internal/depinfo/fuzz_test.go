package depinfo

import (
	"strings"
	"testing"
)

// FuzzParse checks that any text parses or fails without a panic, and that
// file names survive rustc's escaping: a dep-info written the way rustc
// writes it (spaces escaped) parses back to the same names.
func FuzzParse(f *testing.F) {
	f.Add("/t/deps/x.d: src/lib.rs src/a\\ b.rs\n\nsrc/lib.rs:\n\n# env-dep:A=1\\n2\n# env-dep:B\n", "src/x y.rs")
	f.Add("", "a")
	f.Fuzz(func(t *testing.T, text, name string) {
		_, _ = Parse(text)
		if name == "" || strings.ContainsAny(name, "\n\r\\:") || strings.TrimSpace(name) != name {
			return
		}
		esc := strings.ReplaceAll(name, " ", `\ `)
		info, err := Parse("/t/x.d: " + esc + " other.rs\n\n" + esc + ":\n")
		if err != nil {
			t.Fatalf("Parse of rustc-style dep-info for %q: %v", name, err)
		}
		if len(info.Files) < 1 || info.Files[0] != name {
			t.Fatalf("file %q parsed as %q", name, info.Files)
		}
	})
}
