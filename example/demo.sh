#!/usr/bin/env bash
# grove's main job on the bundled example workspace, end to end:
# a git repository with two worktrees; the first builds (and fills the
# store), the second is served from the store; then the numbers.
# Uses a throwaway store and repository; touches nothing of yours.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Where `go install` put grove: GOBIN when set, else GOPATH's bin.
gobin="$(go env GOBIN 2>/dev/null || true)"
[ -n "$gobin" ] || gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
export PATH="$gobin:$HOME/.cargo/bin:$PATH"
command -v grove >/dev/null || { echo "demo: grove is not on PATH (go install ./cmd/...)" >&2; exit 1; }
command -v grove-cli >/dev/null || { echo "demo: grove-cli is not on PATH (go install ./cmd/...)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "demo: cargo is not on PATH" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/grove-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export GROVE_DIR="$work/store"
repo="$work/repo"
cp -r "$here" "$repo"
rm -rf "$repo/target" "$repo/demo.sh"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=demo -c user.email=demo@localhost commit -q -m example

echo "== grove init (cache mode: build.rustc-wrapper = \"grove\" in .cargo/config.toml)"
(cd "$repo" && grove init)
# The file names no path, so it is committed: every worktree gets it.
git -C "$repo" add .cargo/config.toml
git -C "$repo" -c user.name=demo -c user.email=demo@localhost commit -q -m "grove init"
git -C "$repo" worktree add -q -b feature "$work/worktrees/feature"

echo; echo "== first build, main worktree (compiles and stores every unit)"
(cd "$repo" && time cargo build -q)
echo; echo "== first build of a fresh worktree (served from the store)"
(cd "$work/worktrees/feature" && time cargo build -q)
"$work/worktrees/feature/target/debug/app"
echo; echo "== grove stats"
grove stats
