// Package hook installs and removes grove's git post-checkout hook, which
// seeds every new worktree (`grove seed --hook`) whatever tool runs
// `git worktree add`: git runs post-checkout in the new worktree with the
// null commit as the previous HEAD.
//
// A post-checkout hook the user already has is kept and chained: it is
// renamed to post-checkout.grove-chained, grove's hook runs it first with
// the same arguments and exits with its status, and Remove puts it back
// byte for byte. Seeding itself never fails a checkout.
package hook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/gitwt"
)

// Marker is the line that identifies grove's hook.
const Marker = "# grove: seed the build dir of a new worktree from a built one."

// legacyMarker identifies the hook `grove seed --install-hook` wrote
// before this package: it is grove's too, replaced rather than chained.
const legacyMarker = "# grove: seed the target dir of a new worktree"

// IsGroves reports whether a hook's content is one grove wrote.
func IsGroves(b []byte) bool {
	return bytes.Contains(b, []byte(Marker)) || bytes.Contains(b, []byte(legacyMarker))
}

// Name is the hook grove installs; Chained is where a hook that was there
// before is kept.
const (
	Name    = "post-checkout"
	Chained = "post-checkout.grove-chained"
)

// Script is grove's post-checkout hook.
const Script = `#!/bin/sh
` + Marker + `
# Installed by grove init (or grove seed --install-hook); grove off removes it.
status=0
chained="$(dirname "$0")/` + Chained + `"
if [ -x "$chained" ]; then
  "$chained" "$@" || status=$?
fi
if [ "$1" = "0000000000000000000000000000000000000000" ] && command -v grove >/dev/null 2>&1; then
  grove seed --hook || true
fi
exit $status
`

// Installed reports whether grove's hook is in place for the repository.
func Installed(ctx context.Context, dir string) (bool, error) {
	hooks, err := gitwt.HooksDir(ctx, dir)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(filepath.Join(hooks, Name))
	return err == nil && IsGroves(b), nil
}

// ErrHooksPath is returned by Install when git's hooks live outside the
// repository's git dir (core.hooksPath): such a dir is often committed
// (husky's .husky/) or shared by several repositories, so grove does not
// write there; the user adds the line to their hook.
var ErrHooksPath = errors.New("git hooks live outside the git dir (core.hooksPath)")

// Install puts grove's hook in place, chaining a hook that is already
// there. It returns the hook's path and whether anything changed.
func Install(ctx context.Context, dir string) (path string, changed bool, err error) {
	hooks, err := gitwt.HooksDir(ctx, dir)
	if err != nil {
		return "", false, err
	}
	if inGitDir, err := underGitDir(ctx, dir, hooks); err != nil {
		return "", false, err
	} else if !inGitDir {
		return filepath.Join(hooks, Name), false, fmt.Errorf("%w: add this line to %s yourself: [ \"$1\" = 0000000000000000000000000000000000000000 ] && grove seed --hook", ErrHooksPath, filepath.Join(hooks, Name))
	}
	path = filepath.Join(hooks, Name)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && IsGroves(b):
		if string(b) == Script {
			return path, false, nil
		}
		// An older grove hook: replace it, keep what it chains.
	case err == nil:
		chained := filepath.Join(hooks, Chained)
		if _, err := os.Lstat(chained); err == nil {
			return "", false, fmt.Errorf("%s and %s both exist: merge them by hand, then run grove init again", path, chained)
		}
		if err := os.Rename(path, chained); err != nil {
			return "", false, err
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(hooks, 0o755); err != nil {
			return "", false, err
		}
	default:
		return "", false, err
	}
	if err := atomicfile.Write(path, []byte(Script), 0o755); err != nil {
		return "", false, err
	}
	return path, true, nil
}

// underGitDir reports whether hooks lies inside the repository's common
// git dir, where nothing is committed or shared.
func underGitDir(ctx context.Context, dir, hooks string) (bool, error) {
	common, err := gitwt.CommonDir(ctx, dir)
	if err != nil {
		return false, err
	}
	if real, err := filepath.EvalSymlinks(common); err == nil {
		common = real
	}
	if real, err := filepath.EvalSymlinks(hooks); err == nil {
		hooks = real
	}
	rel, err := filepath.Rel(common, hooks)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../"), nil
}

// Remove takes grove's hook out and puts a chained hook back. It returns
// the hook's path and whether anything changed; a hook that is not grove's
// is left alone.
func Remove(ctx context.Context, dir string) (path string, changed bool, err error) {
	hooks, err := gitwt.HooksDir(ctx, dir)
	if err != nil {
		return "", false, err
	}
	path = filepath.Join(hooks, Name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !IsGroves(b)) {
		return path, false, nil
	}
	if err != nil {
		return "", false, err
	}
	chained := filepath.Join(hooks, Chained)
	if _, err := os.Lstat(chained); err == nil {
		return path, true, os.Rename(chained, path)
	}
	return path, true, os.Remove(path)
}
