package cargoconfig

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// AmbiguousWorkspaceError means a worktree holds several Cargo workspaces
// side by side and nothing says which one is meant.
type AmbiguousWorkspaceError struct {
	Top        string
	Workspaces []string // relative to Top
}

func (e *AmbiguousWorkspaceError) Error() string {
	return fmt.Sprintf("%s holds %d Cargo workspaces (%s): run grove inside the one you mean (cd %s)",
		e.Top, len(e.Workspaces), strings.Join(e.Workspaces, ", "), filepath.Join(e.Top, e.Workspaces[0]))
}

// FindWorkspace returns the Cargo workspace grove works on in the worktree
// whose top directory is top, as a path relative to top ("." for top
// itself), so that the same relative path names it in every worktree of
// the repository (a workspace in `rust/`, common in repositories that hold
// more than Rust).
//
// The workspace containing cwd wins when cwd is inside the worktree and
// one contains it. Otherwise it is the workspace at the top, or the one
// nearest the top among those of manifests (the worktree's tracked
// Cargo.toml files, relative to top): workspaces nested in another one
// (vendored or excluded packages) are not candidates, and test fixtures
// deeper down lose to a shallower workspace. Two at the same least depth
// are an AmbiguousWorkspaceError; none is ErrNoManifest.
func FindWorkspace(top, cwd string, manifests []string) (string, error) {
	inside := func(p string) (string, bool) {
		rel, err := filepath.Rel(top, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", false
		}
		return rel, true
	}
	if cwd != "" {
		if _, ok := inside(cwd); ok {
			if root, err := WorkspaceRoot(cwd); err == nil {
				if rel, ok := inside(root); ok {
					return rel, nil
				}
			} else if !errors.Is(err, ErrNoManifest) {
				return "", err
			}
		}
	}
	roots := map[string]bool{}
	for _, m := range append([]string{"Cargo.toml"}, manifests...) {
		dir := filepath.Join(top, filepath.Dir(m))
		root, err := WorkspaceRoot(dir)
		if errors.Is(err, ErrNoManifest) {
			continue
		}
		if err != nil {
			return "", err
		}
		if rel, ok := inside(root); ok {
			roots[rel] = true
		}
	}
	var cands []string
	for r := range roots {
		nested := false
		for o := range roots {
			if o != r && (o == "." || strings.HasPrefix(r, o+string(filepath.Separator))) {
				nested = true
			}
		}
		if !nested {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("%s: %w (in this worktree)", top, ErrNoManifest)
	}
	depth := func(r string) int {
		if r == "." {
			return 0
		}
		return strings.Count(r, string(filepath.Separator)) + 1
	}
	sort.Slice(cands, func(i, j int) bool {
		if depth(cands[i]) != depth(cands[j]) {
			return depth(cands[i]) < depth(cands[j])
		}
		return cands[i] < cands[j]
	})
	if len(cands) > 1 && depth(cands[0]) == depth(cands[1]) {
		var tied []string
		for _, c := range cands {
			if depth(c) == depth(cands[0]) {
				tied = append(tied, c)
			}
		}
		return "", &AmbiguousWorkspaceError{Top: top, Workspaces: tied}
	}
	return cands[0], nil
}
