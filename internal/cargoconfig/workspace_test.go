package cargoconfig

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestFindWorkspace(t *testing.T) {
	pkg := "[package]\nname = \"p\"\nversion = \"0.1.0\"\n"
	ws := "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"vendor\"]\n"
	tests := []struct {
		name  string
		files []string // manifests; "ws:" prefix makes a [workspace] root
		cwd   string   // relative to top
		want  string   // rel, or "ambiguous" / "none"
	}{
		{name: "top", files: []string{"ws:Cargo.toml", "crates/a/Cargo.toml"}, want: "."},
		{name: "subdirectory, from top", files: []string{"ws:rust/Cargo.toml", "rust/crates/a/Cargo.toml"}, want: "rust"},
		{name: "subdirectory, from a member", files: []string{"ws:rust/Cargo.toml", "rust/crates/a/Cargo.toml"}, cwd: "rust/crates/a/src", want: "rust"},
		{name: "single package in a subdirectory", files: []string{"rust/Cargo.toml"}, want: "rust"},
		{name: "vendored package nested in the workspace", files: []string{"ws:rust/Cargo.toml", "rust/vendor/Cargo.toml"}, want: "rust"},
		{name: "fixture deeper than the workspace", files: []string{"ws:rust/Cargo.toml", "tests/fixtures/p/Cargo.toml"}, want: "rust"},
		{name: "two side by side", files: []string{"ws:rust/Cargo.toml", "tools/Cargo.toml"}, want: "ambiguous"},
		{name: "two side by side, inside one", files: []string{"ws:rust/Cargo.toml", "tools/Cargo.toml"}, cwd: "tools", want: "tools"},
		{name: "none", files: nil, want: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, _ := filepath.EvalSymlinks(t.TempDir())
			var manifests []string
			for _, f := range tt.files {
				content := pkg
				if len(f) > 3 && f[:3] == "ws:" {
					f, content = f[3:], ws
				}
				p := filepath.Join(top, f)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte(content), 0o644)
				manifests = append(manifests, f)
			}
			cwd := top
			if tt.cwd != "" {
				cwd = filepath.Join(top, tt.cwd)
				os.MkdirAll(cwd, 0o755)
			}
			got, err := FindWorkspace(top, cwd, manifests)
			var amb *AmbiguousWorkspaceError
			switch {
			case tt.want == "ambiguous":
				if !errors.As(err, &amb) {
					t.Fatalf("got %q, %v; want an ambiguity", got, err)
				}
				sort.Strings(amb.Workspaces)
				if len(amb.Workspaces) != 2 {
					t.Fatalf("ambiguous between %v", amb.Workspaces)
				}
			case tt.want == "none":
				if !errors.Is(err, ErrNoManifest) {
					t.Fatalf("got %q, %v; want ErrNoManifest", got, err)
				}
			case err != nil || got != tt.want:
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
