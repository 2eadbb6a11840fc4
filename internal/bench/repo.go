package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/gitwt"
)

// source is the repository under test, as found on the user's disk. It is
// only ever read: everything is built in a throwaway clone of it.
type source struct {
	top string // git toplevel of the repository
	sub string // the Cargo workspace's directory relative to top ("." for top)
	to  string // commit every scenario builds
	// from is the commit next-commit starts at; "" when there is none.
	from string
}

// git runs git in dir (gitwt.Run) and returns its trimmed stdout.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := gitwt.Run(ctx, dir, args...)
	return strings.TrimSpace(out), err
}

// mainWorktree returns the main worktree of the repository holding dir:
// the default repository under test, whichever worktree grove runs in.
func mainWorktree(ctx context.Context, dir string) (string, error) {
	common, err := git(ctx, dir, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		return "", fmt.Errorf("%s is not in a git repository (use --repo PATH)", dir)
	}
	if filepath.Base(common) != ".git" {
		return "", fmt.Errorf("%s belongs to a bare repository; use --repo PATH with a worktree", dir)
	}
	return filepath.Dir(common), nil
}

// resolveSource checks the repository under test and resolves the commits.
// from/to are revisions as the user wrote them; "" means HEAD~1 and HEAD.
// A missing HEAD~1 (a single commit) is not an error: next-commit is then
// skipped with a note. A from the user named explicitly must exist.
func resolveSource(ctx context.Context, repo, from, to string) (source, error) {
	var s source
	dir := repo
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return s, err
		}
		if dir, err = mainWorktree(ctx, wd); err != nil {
			return s, err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return s, err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return s, fmt.Errorf("repository %s: not a directory", abs)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return s, err
	}
	top, err := git(ctx, abs, "rev-parse", "--show-toplevel")
	if err != nil {
		return s, fmt.Errorf("%s is not a git repository (or a worktree of one)", abs)
	}
	if top, err = filepath.EvalSymlinks(top); err != nil {
		return s, err
	}
	s.top = top
	if s.sub, err = filepath.Rel(top, abs); err != nil {
		return s, err
	}
	if _, err := os.Stat(filepath.Join(abs, "Cargo.toml")); err != nil {
		return s, fmt.Errorf("no Cargo.toml in %s: grove bench needs the directory of a Cargo workspace or package", abs)
	}
	if to == "" {
		to = "HEAD"
	}
	if s.to, err = revParse(ctx, top, to); err != nil {
		return s, fmt.Errorf("commit %q in %s: %w", to, top, err)
	}
	if from == "" {
		s.from, _ = revParse(ctx, top, s.to+"~1") // a single commit has no parent: fine
	} else if s.from, err = revParse(ctx, top, from); err != nil {
		return s, fmt.Errorf("commit %q in %s: %w", from, top, err)
	}
	if s.from == s.to {
		return s, errors.New("--from and --to name the same commit")
	}
	if _, err := git(ctx, top, "cat-file", "-e", s.to+":"+cleanRel(s.sub, "Cargo.toml")); err != nil {
		return s, fmt.Errorf("commit %s has no %s: commit the workspace first", s.to[:12], cleanRel(s.sub, "Cargo.toml"))
	}
	return s, nil
}

func revParse(ctx context.Context, dir, rev string) (string, error) {
	return git(ctx, dir, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
}

// cleanRel joins sub and name as a slash path relative to the repository.
func cleanRel(sub, name string) string {
	return filepath.ToSlash(filepath.Join(sub, name))
}

// untrackedConfigs returns the Cargo config and toolchain files that exist
// in the user's checkout but are not committed at commit (a gitignored
// .cargo/config.toml with a source replacement, as in the corpus). They
// decide how the workspace builds, so they travel into every worktree.
// Paths are relative to the repository.
func untrackedConfigs(ctx context.Context, s source, commit string) []string {
	var out []string
	seen := map[string]bool{}
	for _, dir := range []string{s.sub, "."} {
		for _, name := range []string{".cargo/config.toml", ".cargo/config", "rust-toolchain.toml", "rust-toolchain"} {
			rel := cleanRel(dir, name)
			if seen[rel] {
				continue
			}
			seen[rel] = true
			if fi, err := os.Stat(filepath.Join(s.top, rel)); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if _, err := git(ctx, s.top, "cat-file", "-e", commit+":"+rel); err == nil {
				continue // committed: the worktree has its own
			}
			out = append(out, rel)
		}
	}
	return out
}
