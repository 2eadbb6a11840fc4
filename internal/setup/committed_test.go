package setup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/cargoconfig"
)

// With a committed root config, a worktree elsewhere is covered through
// its parent only when that parent holds nothing but this repository's
// worktrees; a parent shared with another project is left alone, the
// worktree reported, and nothing written there.
func TestCommittedOutsideParent(t *testing.T) {
	ctx := context.Background()
	base, root := tinyRepo(t)
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[alias]\nxb = \"build\"\n")
	run(t, root, "git", "add", ".cargo/config.toml")
	run(t, root, "git", "commit", "-q", "-m", "team config")
	own := filepath.Join(base, "wts", "feature")
	addWorktree(t, root, own)
	mixed := filepath.Join(base, "src", "other")
	addWorktree(t, root, mixed)
	os.MkdirAll(filepath.Join(base, "src", "another-project"), 0o755)

	r := open(t, root)
	if !r.Committed || r.SharedDir != filepath.Join(root, "target") {
		t.Fatalf("committed %v, shared dir %s", r.Committed, r.SharedDir)
	}
	res, err := InitShared(ctx, r, InitOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range res.Worktrees {
		covered[c.Path] = c.Covered
	}
	if !covered[own] || covered[mixed] {
		t.Errorf("covered: %v", covered)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "also holds another-project") {
		t.Errorf("notes: %v", res.Notes)
	}
	if exists(filepath.Join(base, "src", ".cargo")) {
		t.Error("wrote a config into a directory shared with another project")
	}
	if td, _, _ := cargoconfig.Get(filepath.Join(base, "wts", ".cargo", "config.toml"), "build", "target-dir"); td != r.SharedDir {
		t.Errorf("wts config target-dir %q", td)
	}
	if _, err := Off(ctx, open(t, root), false); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(base, "wts", ".cargo")) {
		t.Error("off left the parent's config grove created")
	}
}

// In shared mode with a committed config the shared dir is the main
// worktree's own target/: status and reclaim offer a worktree's old
// target/, never the main one's.
func TestCommittedReclaim(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	_, root := tinyRepo(t)
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[alias]\nxb = \"build\"\n")
	writeFile(t, filepath.Join(root, ".gitignore"), "/target\n/worktrees\n")
	run(t, root, "git", "add", "-A")
	run(t, root, "git", "commit", "-q", "-m", "team config")
	wt := filepath.Join(root, "worktrees", "c")
	addWorktree(t, root, wt)
	cargoBuild(t, root)
	cargoBuild(t, wt) // its own target/, before shared mode
	if _, err := InitShared(ctx, open(t, root), InitOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := GetStatus(ctx, open(t, root))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != ModeShared {
		t.Fatalf("mode %s", st.Mode)
	}
	var paths []string
	for _, c := range st.Reclaim {
		paths = append(paths, c.Path)
	}
	if want := filepath.Join(wt, "target"); strings.Join(paths, ",") != want {
		t.Errorf("reclaim candidates %v, want [%s]", paths, want)
	}
}
