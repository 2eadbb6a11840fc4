package key

import (
	"path/filepath"
	"sort"
	"strings"
)

// Normalizer replaces the absolute paths that differ between worktrees,
// machines and users (target dir, workspace, CARGO_HOME, sysroot) by fixed
// placeholders, so that the same unit built in two worktrees gets one key,
// and restores them with this tree's paths.
//
// Replacement is textual, longest path first, so that a target dir inside
// the workspace is recognized as the target dir.
type Normalizer struct {
	pairs []pair // sorted by len(path) descending
}

type pair struct{ path, placeholder string }

// Placeholder names used in stored keys, dep-info and diagnostics.
const (
	Target    = "{{grove:target}}"
	Cwd       = "{{grove:cwd}}"
	CargoHome = "{{grove:cargo-home}}"
	Sysroot   = "{{grove:sysroot}}"
	RustupDir = "{{grove:rustup-home}}"
)

// NewNormalizer builds a normalizer from placeholder → absolute path.
// Empty or too-short paths (such as "/") are ignored: replacing them would
// mangle unrelated text.
func NewNormalizer(paths map[string]string) *Normalizer {
	n := &Normalizer{}
	for ph, p := range paths {
		p = filepath.Clean(p)
		if len(p) < 4 || !filepath.IsAbs(p) {
			continue
		}
		n.pairs = append(n.pairs, pair{p, ph})
	}
	sort.Slice(n.pairs, func(i, j int) bool {
		if len(n.pairs[i].path) != len(n.pairs[j].path) {
			return len(n.pairs[i].path) > len(n.pairs[j].path)
		}
		return n.pairs[i].placeholder < n.pairs[j].placeholder
	})
	return n
}

// Normalize replaces known absolute paths in s by placeholders.
func (n *Normalizer) Normalize(s string) string {
	for _, p := range n.pairs {
		if strings.Contains(s, p.path) {
			s = strings.ReplaceAll(s, p.path, p.placeholder)
		}
	}
	return s
}

// Denormalize replaces placeholders in s by this tree's paths.
func (n *Normalizer) Denormalize(s string) string {
	if !strings.Contains(s, "{{grove:") {
		return s
	}
	for _, p := range n.pairs {
		s = strings.ReplaceAll(s, p.placeholder, p.path)
	}
	return s
}

// Path returns the absolute path registered for a placeholder.
func (n *Normalizer) Path(placeholder string) string {
	for _, p := range n.pairs {
		if p.placeholder == placeholder {
			return p.path
		}
	}
	return ""
}
