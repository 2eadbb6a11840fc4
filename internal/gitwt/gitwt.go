// Package gitwt discovers a repository's git worktrees by asking git itself,
// so that every layout git supports (worktrees under the main checkout,
// elsewhere on disk, locked, prunable, detached, bare) is seen the way git
// sees it rather than guessed from the directory tree.
package gitwt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Location says where a worktree sits relative to the main worktree. It
// matters because Cargo finds `.cargo/config.toml` only by walking up parent
// directories: a worktree inside the main checkout sees the config at its
// root, one elsewhere does not.
type Location string

const (
	LocMain      Location = "main"      // the main worktree itself
	LocWorktrees Location = "worktrees" // under <root>/worktrees/ or <root>/.worktrees/
	LocInside    Location = "inside"    // somewhere else under <root>
	LocElsewhere Location = "elsewhere" // outside <root>
)

// Worktree is one record of `git worktree list --porcelain`.
type Worktree struct {
	Path           string   `json:"path"`
	Head           string   `json:"head,omitempty"`
	Branch         string   `json:"branch,omitempty"` // short name, e.g. "main"; empty when detached
	Detached       bool     `json:"detached,omitempty"`
	Bare           bool     `json:"bare,omitempty"`
	Locked         bool     `json:"locked,omitempty"`
	LockReason     string   `json:"lock_reason,omitempty"`
	Prunable       bool     `json:"prunable,omitempty"`
	PrunableReason string   `json:"prunable_reason,omitempty"`
	Main           bool     `json:"main,omitempty"`
	Location       Location `json:"location"`
}

// Ref returns the branch name, or the abbreviated HEAD for a detached
// worktree, for display.
func (w Worktree) Ref() string {
	switch {
	case w.Bare:
		return "(bare)"
	case w.Branch != "":
		return w.Branch
	case len(w.Head) >= 12:
		return w.Head[:12] + " (detached)"
	case w.Head != "":
		return w.Head + " (detached)"
	}
	return "(unknown)"
}

// ParsePorcelain parses the output of `git worktree list --porcelain`,
// with or without -z. Records are separated by an empty line (or an empty
// NUL-terminated field with -z). Unknown attributes are ignored, as git's
// documentation asks of porcelain consumers. The first record is the main
// worktree. Location is not set here; see Classify.
func ParsePorcelain(data []byte) ([]Worktree, error) {
	sep := byte('\n')
	if bytes.IndexByte(data, 0) >= 0 {
		sep = 0
	}
	var out []Worktree
	var cur *Worktree
	for _, field := range bytes.Split(data, []byte{sep}) {
		line := string(field)
		if sep == '\n' {
			line = strings.TrimSuffix(line, "\r")
		}
		if line == "" {
			cur = nil
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		if key == "worktree" {
			if val == "" {
				return nil, fmt.Errorf("parse git worktree list: empty worktree path")
			}
			out = append(out, Worktree{Path: val})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("parse git worktree list: %q before any worktree line", line)
		}
		switch key {
		case "HEAD":
			cur.Head = val
		case "branch":
			cur.Branch = strings.TrimPrefix(val, "refs/heads/")
		case "detached":
			cur.Detached = true
		case "bare":
			cur.Bare = true
		case "locked":
			cur.Locked, cur.LockReason = true, val
		case "prunable":
			cur.Prunable, cur.PrunableReason = true, val
		}
	}
	if len(out) > 0 {
		out[0].Main = true
	}
	return out, nil
}

// Classify sets each worktree's Location relative to root, the main
// worktree's path.
func Classify(wts []Worktree, root string) {
	root = filepath.Clean(root)
	for i := range wts {
		wts[i].Location = locate(wts[i], root)
	}
}

func locate(w Worktree, root string) Location {
	if w.Main {
		return LocMain
	}
	rel, err := filepath.Rel(root, filepath.Clean(w.Path))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return LocElsewhere
	}
	first, _, _ := strings.Cut(rel, string(filepath.Separator))
	if first == "worktrees" || first == ".worktrees" {
		return LocWorktrees
	}
	return LocInside
}

// ErrNotRepo is returned (wrapped) when a directory is not inside a git
// repository.
var ErrNotRepo = errors.New("not inside a git repository")

// Repo is a git repository seen from one directory in it.
type Repo struct {
	// Root is the main worktree's top-level directory; for a bare
	// repository it is the bare repository's directory.
	Root string `json:"root"`
	// Bare is true when the repository has no main working tree.
	Bare bool `json:"bare,omitempty"`
	// CommonDir is the shared git directory (…/.git for a normal repo).
	CommonDir string `json:"common_dir"`
	// Current is the top-level directory of the worktree that contains the
	// directory Discover was called with ("" inside a bare repository).
	Current string `json:"current,omitempty"`
}

// Discover finds the repository that contains dir. The main worktree is
// taken from the first record of `git worktree list`, which git documents
// as always being the main worktree, so it is right when dir is in a linked
// worktree anywhere on disk.
func Discover(ctx context.Context, dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", abs)
	}
	out, err := Run(ctx, abs, "rev-parse", "--path-format=absolute", "--git-common-dir", "--is-bare-repository")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("git rev-parse in %s: unexpected output %q", abs, out)
	}
	r := &Repo{CommonDir: lines[0], Bare: lines[1] == "true"}
	if !r.Bare {
		top, err := Run(ctx, abs, "rev-parse", "--show-toplevel")
		if err != nil {
			// Inside the .git directory of a non-bare repository.
			return nil, fmt.Errorf("%s is inside a git directory, not a worktree", abs)
		}
		r.Current = strings.TrimSpace(top)
	}
	wts, err := listRaw(ctx, abs)
	if err != nil {
		return nil, err
	}
	if len(wts) == 0 {
		return nil, fmt.Errorf("git worktree list in %s: no worktrees", abs)
	}
	r.Root = wts[0].Path
	if wts[0].Bare {
		r.Bare = true
	}
	return r, nil
}

// List returns every worktree git knows of, main first, classified.
func (r *Repo) List(ctx context.Context) ([]Worktree, error) {
	wts, err := listRaw(ctx, r.CommonDir)
	if err != nil {
		return nil, err
	}
	Classify(wts, r.Root)
	return wts, nil
}

func listRaw(ctx context.Context, dir string) ([]Worktree, error) {
	out, err := Run(ctx, dir, "worktree", "list", "--porcelain", "-z")
	if err != nil {
		return nil, err
	}
	return ParsePorcelain([]byte(out))
}

// IsTracked reports whether path (absolute or relative to the worktree
// top) is tracked in the index of the worktree at top.
func IsTracked(ctx context.Context, top, path string) (bool, error) {
	out, err := Run(ctx, top, "ls-files", "--full-name", "--", path)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) != "", nil
}

// IsIgnored reports whether git ignores path in the worktree at top. A
// tracked file is never reported as ignored (git's own rule).
func IsIgnored(ctx context.Context, top, path string) (bool, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", top, "check-ignore", "-q", "--", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return true, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return false, nil
	}
	return false, fmt.Errorf("git check-ignore %s in %s: %v: %s", path, top, err, strings.TrimSpace(stderr.String()))
}

// Run runs one git command in dir and returns its stdout. It is grove's
// one git runner: every package asks git through it. Git never prompts
// (GIT_TERMINAL_PROMPT=0: grove runs unattended, inside builds and hooks),
// never takes the index lock for a read (GIT_OPTIONAL_LOCKS=0: a running
// git in that worktree is not disturbed), and speaks English (LC_ALL=C: its
// messages are matched). The error holds git's own first line of stderr,
// which is what a user needs to see; a dir outside any repository is
// ErrNotRepo.
func Run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
	if err := cmd.Run(); err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if strings.Contains(msg, "not a git repository") {
			return "", fmt.Errorf("%s is %w", dir, ErrNotRepo)
		}
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s in %s: %s", strings.Join(args, " "), dir, msg)
	}
	return stdout.String(), nil
}

// TrackedManifests returns the paths, relative to the worktree top, of
// every Cargo.toml tracked there.
func TrackedManifests(ctx context.Context, top string) ([]string, error) {
	out, err := Run(ctx, top, "ls-files", "-z", "--", ":(glob)**/Cargo.toml")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range strings.Split(out, "\x00") {
		if p != "" {
			paths = append(paths, filepath.FromSlash(p))
		}
	}
	return paths, nil
}

// HooksDir returns the directory git runs hooks from for the repository
// containing dir (core.hooksPath honoured).
func HooksDir(ctx context.Context, dir string) (string, error) {
	out, err := Run(ctx, dir, "rev-parse", "--path-format=absolute", "--git-path", "hooks")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// CommonDir returns the shared git directory (…/.git) of the repository
// containing dir, absolute.
func CommonDir(ctx context.Context, dir string) (string, error) {
	out, err := Run(ctx, dir, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}
