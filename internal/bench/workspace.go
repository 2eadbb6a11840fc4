package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// workspace is the throwaway world a benchmark builds in: a private clone
// of the repository under test and its worktrees, all under root. Nothing
// outside root is ever written, and remove deletes root.
type workspace struct {
	root    string   // temp dir owning everything
	clone   string   // root/repo: the clone whose worktrees we add
	src     source   // the user's repository (read only)
	configs []string // untracked config files copied into each worktree

	mu    sync.Mutex
	trees map[string]bool // worktree roots added and not yet removed
	short []string        // dirs made by shortDir, removed with root
}

// shortDir makes a new dir with a short path in the system's temp dir,
// for what needs one (a store holding a Unix socket); remove deletes it.
func (w *workspace) shortDir() (string, error) {
	d, err := os.MkdirTemp("", "grove-bench-")
	if err != nil {
		return "", err
	}
	w.mu.Lock()
	w.short = append(w.short, d)
	w.mu.Unlock()
	return d, nil
}

// newWorkspace clones src into a new temp dir under parent. The clone
// copies objects (--no-hardlinks), so even a git gc in the clone cannot
// touch the user's repository, and hooks are switched off in it.
func newWorkspace(ctx context.Context, parent string, src source) (*workspace, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(parent, "grove-bench-work-")
	if err != nil {
		return nil, fmt.Errorf("creating work dir: %w", err)
	}
	w := &workspace{root: root, clone: filepath.Join(root, "repo"), src: src, trees: map[string]bool{}}
	if _, err := git(ctx, root, "clone", "--quiet", "--no-checkout", "--no-hardlinks", src.top, w.clone); err != nil {
		_ = removeAll(root)
		return nil, fmt.Errorf("cloning %s: %w", src.top, err)
	}
	hooks := filepath.Join(root, "no-hooks")
	if err := os.Mkdir(hooks, 0o755); err != nil {
		_ = removeAll(root)
		return nil, err
	}
	for _, kv := range [][2]string{
		{"core.hooksPath", hooks},
		{"gc.auto", "0"},
		{"user.name", "grove bench"},
		{"user.email", "grove-bench@localhost"},
		{"commit.gpgSign", "false"},
	} {
		if _, err := git(ctx, w.clone, "config", kv[0], kv[1]); err != nil {
			_ = removeAll(root)
			return nil, err
		}
	}
	w.configs = untrackedConfigs(ctx, src, src.to)
	return w, nil
}

// addTree adds a detached worktree at commit under root/name and returns
// the Cargo workspace directory inside it.
func (w *workspace) addTree(ctx context.Context, name, commit string) (string, error) {
	tree := filepath.Join(w.root, "trees", name)
	if err := os.MkdirAll(filepath.Dir(tree), 0o755); err != nil {
		return "", err
	}
	w.mu.Lock()
	w.trees[tree] = true
	w.mu.Unlock()
	if _, err := git(ctx, w.clone, "worktree", "add", "--quiet", "--detach", tree, commit); err != nil {
		return "", fmt.Errorf("adding worktree %s: %w", name, err)
	}
	for _, rel := range w.configs {
		if err := copyFile(filepath.Join(w.src.top, rel), filepath.Join(tree, rel)); err != nil {
			return "", fmt.Errorf("copying %s into worktree %s: %w", rel, name, err)
		}
	}
	return filepath.Join(tree, w.src.sub), nil
}

// addClone makes a separate clone of the throwaway clone under root/name,
// checked out (detached) at commit, and returns the Cargo workspace dir in
// it: the second machine of other-machine, which must not find the first
// machine's worktrees through git (grove seed looks for donors there).
// removeTree removes it.
func (w *workspace) addClone(ctx context.Context, name, commit string) (string, error) {
	tree := filepath.Join(w.root, name)
	if err := os.MkdirAll(filepath.Dir(tree), 0o755); err != nil {
		return "", err
	}
	w.mu.Lock()
	w.trees[tree] = true
	w.mu.Unlock()
	if _, err := git(ctx, w.root, "clone", "--quiet", "--no-checkout", "--no-hardlinks", w.clone, tree); err != nil {
		return "", fmt.Errorf("cloning %s: %w", name, err)
	}
	hooks := filepath.Join(w.root, "no-hooks")
	if _, err := git(ctx, tree, "config", "core.hooksPath", hooks); err != nil {
		return "", err
	}
	if _, err := git(ctx, tree, "checkout", "--quiet", "--detach", commit); err != nil {
		return "", fmt.Errorf("checking out %s in %s: %w", short(commit), name, err)
	}
	for _, rel := range w.configs {
		if err := copyFile(filepath.Join(w.src.top, rel), filepath.Join(tree, rel)); err != nil {
			return "", fmt.Errorf("copying %s into %s: %w", rel, name, err)
		}
	}
	return filepath.Join(tree, w.src.sub), nil
}

// removeTree removes a worktree added by addTree, build outputs included.
// dir may be the worktree root or the workspace directory inside it.
func (w *workspace) removeTree(ctx context.Context, dir string) error {
	tree := dir
	if w.src.sub != "." {
		tree = filepath.Clean(filepath.Join(dir, relUp(w.src.sub)))
	}
	w.mu.Lock()
	delete(w.trees, tree)
	w.mu.Unlock()
	_, gerr := git(ctx, w.clone, "worktree", "remove", "--force", "--force", tree)
	rerr := removeAll(tree) // what git left (or all of it if git failed)
	_, _ = git(ctx, w.clone, "worktree", "prune")
	if rerr != nil {
		return errors.Join(gerr, rerr)
	}
	return nil
}

// remove deletes every worktree and the whole work dir. It gets its own
// deadline: it runs after an interrupt, when the benchmark's context is
// already cancelled.
func (w *workspace) remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w.mu.Lock()
	var trees []string
	for t := range w.trees {
		trees = append(trees, t)
	}
	w.mu.Unlock()
	var errs []error
	for _, t := range trees {
		if _, err := git(ctx, w.clone, "worktree", "remove", "--force", "--force", t); err != nil && exists(t) {
			errs = append(errs, err)
		}
	}
	_, _ = git(ctx, w.clone, "worktree", "prune")
	w.mu.Lock()
	short := w.short
	w.mu.Unlock()
	for _, d := range short {
		if err := removeAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeAll(w.root); err != nil {
		errs = append(errs, err)
		return errors.Join(errs...)
	}
	return nil // leftover worktree entries died with the clone
}

// relUp turns a relative dir into the ../.. that climbs out of it.
func relUp(sub string) string {
	up := "."
	for d := filepath.Clean(sub); d != "." && d != string(filepath.Separator); d = filepath.Dir(d) {
		up = filepath.Join(up, "..")
	}
	return up
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// removeAll is os.RemoveAll that also copes with read-only directories (a
// cache store may make its entries read-only): on failure it makes every
// directory writable and tries again.
func removeAll(path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}
