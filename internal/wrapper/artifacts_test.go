package wrapper

import (
	"testing"

	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/rustc"
)

// TestUnexpectedArtifacts: rustc's artifact notifications, in the form
// of rustc 1.95 ("$message_type") and the older one, are compared with
// the outputs grove restores; a file grove would not restore makes the
// unit uncacheable, a diagnostic never does.
func TestUnexpectedArtifacts(t *testing.T) {
	inv := rustc.Parse("rustc", []string{"--crate-name", "l", "--crate-type", "lib", "--emit=dep-info,metadata,link",
		"-C", "extra-filename=-h", "--out-dir", "/w/target/debug/deps", "src/lib.rs"})
	u := &key.Unit{Inv: inv, Cwd: "/w", OutDir: "/w/target/debug/deps"}
	names := []string{"libl-h.rlib", "libl-h.rmeta"}
	for _, tc := range []struct {
		stderr, want string
	}{
		{`{"$message_type":"artifact","artifact":"/w/target/debug/deps/libl-h.rmeta","emit":"metadata"}`, ""},
		{`{"$message_type":"artifact","artifact":"/w/target/debug/deps/l-h.d","emit":"dep-info"}`, ""},
		{`{"artifact":"/w/target/debug/deps/libl-h.rlib","emit":"link"}`, ""},
		{`{"$message_type":"artifact","artifact":"/w/target/debug/deps/l-h.dwo","emit":"link"}`, "unexpected output l-h.dwo"},
		{`{"artifact":"/elsewhere/libl-h.rlib","emit":"link"}`, "unexpected output libl-h.rlib"},
		{`{"$message_type":"diagnostic","message":"\"artifact\": x.o","rendered":"x"}`, ""},
		{`warning: "artifact": not json`, ""},
	} {
		if got := unexpectedArtifacts(u, names, []byte(tc.stderr+"\n")); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.stderr, got, tc.want)
		}
	}
}
