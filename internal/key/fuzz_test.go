package key

import (
	"strings"
	"testing"
)

// FuzzNormalizeRoundTrip: for any text without placeholders and any tree
// path, each kind of text (raw, dep-info, rustc's JSON stream) comes back
// unchanged from normalizing and denormalizing with the same tree.
func FuzzNormalizeRoundTrip(f *testing.F) {
	f.Add("/w/a b/target/debug/deps/x.d: /w/a b/src/lib.rs\n# env-dep:D=/w/a b\n", "/w/a b")
	f.Add(`{"artifact":"/w/q\"x/target/debug/deps/libx.rmeta","emit":"metadata"}`, `/w/q"x`)
	f.Add("/w/wt2/src /w/wt/src", "/w/wt")
	f.Fuzz(func(t *testing.T, text, root string) {
		if strings.Contains(text, "{{grove:") || strings.Contains(root, "{{grove:") || !strings.HasPrefix(root, "/") {
			return
		}
		n := NewNormalizer(map[string]string{Cwd: root, Target: root + "/target"})
		if got := n.Denormalize(n.Normalize(text)); got != text {
			t.Fatalf("raw round trip of %q with %q: %q", text, root, got)
		}
		if got := n.DenormalizeDepInfo(n.NormalizeDepInfo(text)); got != text {
			t.Fatalf("dep-info round trip of %q with %q: %q", text, root, got)
		}
		if got := n.DenormalizeStream(n.NormalizeStream(text)); got != text {
			t.Fatalf("stream round trip of %q with %q: %q", text, root, got)
		}
	})
}
