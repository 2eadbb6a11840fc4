package key

import (
	"os/exec"
	"strings"
)

// GitHead is what git tells a build script about the HEAD of tree beyond
// the files it holds: the commit checked out, the ref HEAD points to (the
// branch, or none when detached), and every tag, by name and object.
// Scripts embed more than the commit: `git rev-parse --abbrev-ref HEAD`
// gives the branch, `git describe --tags` the nearest tag; two worktrees
// at one commit on two branches, or one commit before and after a tag,
// give scripts different answers, and plain cargo's run in each tree
// embeds its own. So a path package's run is keyed on all of it
// (buildrun.go), and a run is seeded only into a tree with the same
// (package seed). Other branches are left out: a script that lists every
// branch (`git branch`, `describe --all`) is not met in practice, and any
// new branch anywhere would rerun every tree's scripts.
//
// The price: a new worktree on a new branch runs the build scripts of the
// packages inside it again on its first build (grove cannot tell whether
// a script read .git), where it was handed the donor's runs before.
// Registry and git dependencies are not keyed on it and stay seeded.
//
// "" means no git state (not a git worktree, or git failed): every such
// tree keys the same, as before any commit.
func GitHead(tree string) string {
	head, err := exec.Command("git", "-C", tree, "rev-parse", "HEAD", "--symbolic-full-name", "HEAD").Output()
	if err != nil {
		return ""
	}
	tags, err := exec.Command("git", "-C", tree, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags").Output()
	if err != nil {
		return ""
	}
	// rev-parse prints the commit, then the full name of the ref HEAD
	// points to, or "HEAD" when it is detached.
	return "head " + strings.Join(strings.Fields(string(head)), "\nref ") + "\n" + string(tags)
}
