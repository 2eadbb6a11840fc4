package key

import (
	"os/exec"
	"strings"
)

// GitHead is what git can tell a build script about tree beyond the files
// it holds: the commit checked out, the ref HEAD points to (the branch,
// or none when detached), and every ref of the repository (branches,
// tags, remotes, stash, this worktree's own refs) by name and object.
// Scripts embed more than the commit: `git rev-parse --abbrev-ref HEAD`
// gives the branch, `git describe --tags` the nearest tag, `git branch
// --list` every branch; two worktrees at one commit on two branches, or
// one tree before and after a tag or a branch is made, give such a script
// different answers, and plain cargo's run in each tree embeds its own.
//
// Only runs that read git are keyed on it (the rule in buildrun.go):
// while the trampoline runs a path package's script it watches, with
// inotify, the worktree's git dir and the common git dir and every dir
// below them but object stores (package gitwatch). Every way a script
// learns git state, by running git (which opens HEAD in the git dir
// first), libgit2 or gix (the same), or by reading .git/HEAD or listing
// refs/heads itself, opens a file or lists a dir there; the `.git` file
// in a linked worktree's root names only the git dir, the same for every
// run of that tree. So a run during which nothing opened anything there
// did not read git state, and its stored run is served whatever the
// branch or tags; one that did, or could not be watched (no inotify,
// queue overflow), records the GitHead it saw, computed after the run,
// and is served only to a tree whose GitHead is the same (computed once
// per lookup, and only when a candidate needs it). A run during which
// HEAD or a ref was written is not stored: the state after it may not be
// what it saw. Another process opening the git dirs at the same time
// (git status of another build's key) only makes a run count as reading
// git: a lost hit, never a wrong one. Left out (README residue): a script
// that learns git state from file metadata only (stat of .git/HEAD,
// which inotify does not report) or from outside the repository (a
// server, GIT_DIR pointing elsewhere is in the key as an environment
// variable).
//
// "" means no git state (not a git worktree, or git failed): every such
// tree keys the same.
func GitHead(tree string) string {
	head, err := exec.Command("git", "-C", tree, "rev-parse", "HEAD", "--symbolic-full-name", "HEAD").Output()
	if err != nil {
		return ""
	}
	refs, err := exec.Command("git", "-C", tree, "for-each-ref", "--format=%(objectname) %(refname)").Output()
	if err != nil {
		return ""
	}
	// rev-parse prints the commit, then the full name of the ref HEAD
	// points to, or "HEAD" when it is detached.
	return "head " + strings.Join(strings.Fields(string(head)), "\nref ") + "\n" + string(refs)
}
