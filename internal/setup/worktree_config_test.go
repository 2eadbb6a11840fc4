package setup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Cache-mode init and off act on the config of the worktree they run in,
// never on the main worktree's (CacheConfigPath), and mode follows the
// config Cargo reads there, including one inherited by a nested worktree.
func TestCacheConfigOfCurrentWorktree(t *testing.T) {
	ctx := context.Background()
	base, root := tinyRepo(t)
	linked := filepath.Join(base, "wt1")
	addWorktree(t, root, linked)
	nested := filepath.Join(root, "worktrees", "n")
	run(t, root, "sh", "-c", "echo /worktrees/ >> .git/info/exclude")
	addWorktree(t, root, nested)
	rootCfg := filepath.Join(root, ".cargo", "config.toml")
	linkedCfg := filepath.Join(linked, ".cargo", "config.toml")
	has := func(p string) bool { b, _ := os.ReadFile(p); return strings.Contains(string(b), "rustc-wrapper") }

	// init in the linked worktree writes its own config only.
	rl := open(t, linked)
	res, err := InitCache(ctx, rl, false)
	if err != nil {
		t.Fatal(err)
	}
	if !has(linkedCfg) || exists(rootCfg) || res.ConfigPath != linkedCfg {
		t.Fatalf("init in %s wrote %v (linked has wrapper %v, root config exists %v)", linked, res.Changed, has(linkedCfg), exists(rootCfg))
	}
	if m, _, _ := rl.Mode(); m != ModeCache {
		t.Fatalf("mode in the linked worktree after init: %s", m)
	}
	if m, _, _ := open(t, root).Mode(); m != ModeNone {
		t.Fatalf("mode in the main worktree, untouched: %s", m)
	}
	for _, c := range res.Worktrees {
		if c.Covered != samePath(c.Path, linked) {
			t.Fatalf("coverage after init in the linked worktree: %+v", res.Worktrees)
		}
	}
	// off there removes it there, and leaves the main worktree alone.
	if _, err := InitCache(ctx, open(t, root), false); err != nil {
		t.Fatal(err)
	}
	run(t, root, "git", "add", ".cargo/config.toml")
	run(t, root, "git", "commit", "-q", "-m", "grove")
	if _, err := Off(ctx, rl, false); err != nil {
		t.Fatal(err)
	}
	if has(linkedCfg) || !has(rootCfg) {
		t.Fatalf("off in the linked worktree: linked has wrapper %v, root has wrapper %v", has(linkedCfg), has(rootCfg))
	}
	if st := run(t, root, "git", "status", "--porcelain"); st != "" {
		t.Fatalf("off in the linked worktree changed the main worktree:\n%s", st)
	}
	if m, _, _ := rl.Mode(); m != ModeNone {
		t.Fatalf("mode in the linked worktree after off: %s", m)
	}

	// A nested worktree without a config of its own reads the main one's.
	rn := open(t, nested)
	if m, _, _ := rn.Mode(); m != ModeCache {
		t.Fatalf("mode in a nested worktree inheriting the root config: %s", m)
	}
	rep, err := Doctor(ctx, rn)
	if err != nil || rep.Mode != ModeCache {
		t.Fatalf("doctor in the nested worktree: %v %+v", err, rep)
	}
	if st, err := GetStatus(ctx, rn); err != nil || st.Mode != ModeCache || st.ConfigPath != rootCfg {
		t.Fatalf("status in the nested worktree: %v mode %s config %s", err, st.Mode, st.ConfigPath)
	}
	res, err = Off(ctx, rn, false)
	if err != nil {
		t.Fatal(err)
	}
	if !has(rootCfg) || !strings.Contains(strings.Join(res.Notes, "\n"), "still run grove") {
		t.Fatalf("off in a nested worktree: root has wrapper %v, notes %q", has(rootCfg), res.Notes)
	}
}
