package seed

// HookScript is the post-checkout hook `grove seed --install-hook` writes:
// `git worktree add` runs post-checkout in the new worktree with the null
// commit as the previous HEAD, so every tool that makes worktrees gets them
// seeded. It never fails the checkout. `grove doctor` compares an installed
// hook with it to find a stale one.
const HookScript = `#!/bin/sh
# grove: seed the target dir of a new worktree from a built one.
if [ "$1" = "0000000000000000000000000000000000000000" ] && command -v grove >/dev/null 2>&1; then
  grove seed --quiet || true
fi
exit 0
`

// HookMarker is the line that identifies a hook grove wrote.
const HookMarker = "# grove: seed the target dir of a new worktree"
