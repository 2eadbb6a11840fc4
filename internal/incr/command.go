package incr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/atomicfile"
)

// Command is a unit's compile as Cargo last ran it in this tree, kept in
// the incremental dir beside rustc's state (".grove-warm-<name>.cmd"). A
// build that is a no-op runs no compile, so a worktree grove seed filled
// has nothing to warm from; seed reads the donor's command instead, points
// it at the new worktree and warms the unit there (Job).
//
// Of the environment it holds only what Cargo sets for the unit's compile
// (CargoEnv): proc-macros read CARGO_MANIFEST_DIR at expansion (pest_derive
// finds its grammar by it) without rustc knowing. The rest stays out: a
// target dir gets archived and shared (CI caches), and the environment
// may hold secrets. A value that differs from the next build's costs
// reuse, never correctness: rustc tracks what env! reads, and expands
// proc-macros anew in every session.
type Command struct {
	Rustc string   `json:"rustc"`
	Cwd   string   `json:"cwd"`
	Args  []string `json:"args"`
	Env   []string `json:"env,omitempty"` // NAME=value, CargoEnv's
}

// CargoEnv returns the variables of environ that Cargo sets for a
// compile (Cargo's "Environment variables Cargo sets for crates"), the
// ones a Command keeps.
func CargoEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "CARGO", k == "OUT_DIR", k == "CARGO_MANIFEST_DIR", k == "CARGO_MANIFEST_PATH",
			k == "CARGO_CRATE_NAME", k == "CARGO_BIN_NAME", k == "CARGO_PRIMARY_PACKAGE",
			k == "CARGO_TARGET_TMPDIR", k == "CARGO_RUSTC_CURRENT_DIR",
			strings.HasPrefix(k, "CARGO_PKG_"), strings.HasPrefix(k, "CARGO_BIN_EXE_"):
			out = append(out, kv)
		}
	}
	return out
}

const commandSuffix = ".cmd"

func (u Unit) commandPath() string { return filepath.Join(u.dir, prefix+u.name+commandSuffix) }

// SaveCommand records c as the unit's compile, unless it is recorded
// already.
func (u Unit) SaveCommand(c Command) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(u.commandPath()); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(u.dir, 0o777); err != nil {
		return err
	}
	return atomicfile.Write(u.commandPath(), b, 0o666)
}

// Commands returns the compiles recorded in the incremental dir dir whose
// unit names end in suffix (a unit's "-<hash>", its -C extra-filename),
// by unit name.
func Commands(dir, suffix string) (map[string]Command, error) {
	paths, err := filepath.Glob(filepath.Join(dir, prefix+"*"+suffix+commandSuffix))
	if err != nil {
		return nil, err
	}
	out := map[string]Command{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var c Command
		if err := json.Unmarshal(b, &c); err != nil || c.Rustc == "" || c.Cwd == "" {
			return nil, fmt.Errorf("%s: not a grove command record", p)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), prefix), commandSuffix)
		out[name] = c
	}
	return out, nil
}

// Moved returns c as it runs in another tree: every path under a root of
// from (the donor's worktree, target and build dirs, longest first) is
// put under the matching root of to. ok is false when the result would
// still read or write the old tree: its working dir, its output dir or
// its incremental dir is not under the new roots, or an argument still
// names an old root. A background compile must never touch another
// worktree.
func (c Command) Moved(from, to []string) (Command, bool) {
	if len(from) != len(to) {
		return Command{}, false
	}
	move := func(s string) string {
		best := -1
		for i, r := range from {
			if (s == r || strings.HasPrefix(s, r+string(filepath.Separator))) && (best < 0 || len(r) > len(from[best])) {
				best = i
			}
		}
		if best < 0 {
			return s
		}
		return to[best] + s[len(from[best]):]
	}
	// Arguments carry paths after a flag's "=" (-Ldependency=, --extern
	// name=, -C incremental=) or whole.
	moveArg := func(a string) string {
		if i := strings.LastIndexByte(a, '='); i >= 0 {
			return a[:i+1] + move(a[i+1:])
		}
		return move(a)
	}
	out := Command{Rustc: move(c.Rustc), Cwd: move(c.Cwd)}
	for _, a := range c.Args {
		out.Args = append(out.Args, moveArg(a))
	}
	for _, kv := range c.Env {
		out.Env = append(out.Env, moveArg(kv))
	}
	// An old root named in the result is an old path, unless a new root
	// starts there too (a worktree made inside the donor's).
	names := func(s string) bool {
		for _, r := range from {
			for i := 0; ; {
				j := strings.Index(s[i:], r)
				if j < 0 {
					break
				}
				at := s[i+j:]
				if rest := at[len(r):]; (rest == "" || rest[0] == filepath.Separator) && !underAny(at, to) {
					return true
				}
				i += j + 1
			}
		}
		return false
	}
	if names(out.Cwd) || !underAny(out.Cwd, to) {
		return Command{}, false
	}
	for _, a := range append(append([]string{}, out.Args...), out.Env...) {
		if names(a) {
			return Command{}, false
		}
	}
	return out, true
}

// underAny reports whether path s is one of roots or under one.
func underAny(s string, roots []string) bool {
	for _, r := range roots {
		if s == r || strings.HasPrefix(s, r+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
