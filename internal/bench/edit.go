package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/cargolayout"
)

// pickEditFile chooses the source file the edit scenarios change: the root
// file of the workspace member that most other members depend on (its lib
// target if it has one), so an edit costs what a typical change to shared
// code costs. The result is relative to the worktree's workspace dir.
func pickEditFile(ctx context.Context, dir string, env []string) (string, error) {
	md, err := cargolayout.ReadMetadata(ctx, "", dir, env, false)
	if err != nil {
		return "", err
	}
	return chooseEditFile(*md, dir)
}

// chooseEditFile is pickEditFile's decision, apart from running cargo.
func chooseEditFile(md cargolayout.Metadata, dir string) (string, error) {
	member := map[string]bool{}
	for _, id := range md.WorkspaceMembers {
		member[id] = true
	}
	dependents := map[string]int{}
	for _, p := range md.Packages {
		if !member[p.ID] {
			continue
		}
		for _, d := range p.Dependencies {
			if d.Path != nil {
				dependents[d.Name]++
			}
		}
	}
	best, bestN := "", -1
	for _, p := range md.Packages {
		if !member[p.ID] || len(p.Targets) == 0 {
			continue
		}
		src := p.Targets[0].SrcPath
		for _, t := range p.Targets {
			for _, k := range t.Kind {
				if k == "lib" || k == "rlib" || k == "proc-macro" {
					src = t.SrcPath
				}
			}
		}
		if n := dependents[p.Name]; n > bestN {
			best, bestN = src, n
		}
	}
	if best == "" {
		return "", fmt.Errorf("no workspace member with a source file in %s", dir)
	}
	rel, err := filepath.Rel(dir, best)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("source file %s is outside the workspace %s", best, dir)
	}
	return rel, nil
}

// applyEdit appends a private function to file, a change that compiles in
// any crate (a proc-macro crate may not export a plain pub fn), is unique
// per tag so each edit differs, and makes rustc rebuild the crate and
// Cargo its dependents.
func applyEdit(file, tag string) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("edit: %w", err)
	}
	ident := "grove_bench_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(tag))
	_, err = fmt.Fprintf(f, "\n// Added by grove bench (%s).\n#[allow(dead_code)]\nfn %s() -> u64 {\n    %d\n}\n", tag, ident, len(tag))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("edit %s: %w", file, err)
	}
	return nil
}

// syntheticCommit makes the next-commit scenario possible in a repository
// with a single commit (--next-edit): in the throwaway clone only, it
// commits an edit of relFile on top of base and returns the new commit.
// Cargo.lock is untouched, so the commit builds offline like base.
func syntheticCommit(ctx context.Context, w *workspace, base, relFile string) (string, error) {
	dir, err := w.addTree(ctx, "next-edit", base)
	if err != nil {
		return "", err
	}
	defer func() { _ = w.removeTree(ctx, dir) }()
	if err := applyEdit(filepath.Join(dir, relFile), "next commit"); err != nil {
		return "", err
	}
	if _, err := git(ctx, dir, "commit", "--quiet", "--no-verify", "-a", "-m", "grove bench: synthetic next commit"); err != nil {
		return "", err
	}
	return git(ctx, dir, "rev-parse", "HEAD")
}
