package key

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/grove-rs/grove/internal/filehash"
)

// Seeding a build-script run: the environment it ran with.
//
// A build script reads any variable it likes, and many declare none
// (`std::env::var("MODE")` with no rerun-if-env-changed). Cargo's
// fingerprint of such a run holds no environment, so a run copied into a
// new worktree by `grove seed` is fresh there whatever that tree's builds
// set, while plain cargo in a fresh worktree runs the script with the
// environment of its build. The build-run key holds the whole environment
// (buildrun.go); a seeded run skips the key, so it must carry what the key
// would have compared: a run (of a path package, or of a registry or git
// dependency alike) is seeded only when the environment it ran with is
// the one a build of the new tree gets.
//
// What is compared is the ambient environment: every variable but those
// Cargo or rustup set for the run (CARGO*, DEP_*, OUT_DIR, TARGET, HOST,
// NUM_JOBS, OPT_LEVEL, DEBUG, PROFILE, RUSTC*, RUSTDOC, RUSTUP_*,
// RUST_RECURSION_COUNT, LD_LIBRARY_PATH, to which Cargo prepends its
// dirs), those the build-run key leaves out (runEnvSkipped), the shell's
// PWD, and GIT_* (git sets some for its hooks, and a script reading git
// state is the git rule's: githead.go). Values are compared with the
// tree's path replaced by a placeholder (an `[env]` entry with
// `relative = true` names each tree; the tree is found as the build-run
// key finds it). The build's environment is not known
// when a worktree is seeded: the seeding process's own environment stands
// for it (the hook runs in the shell of `git worktree add`, without the
// dir git puts first on PATH), with `[env]` of the new tree's Cargo config
// resolved as Cargo would.
//
// The trampoline writes, into the run's unit dir, a mark holding a digest
// of each ambient variable (never a value: the target dir is no place for
// a token), stamped with Cargo's invoked.timestamp of that run as the git
// mark is (package gitwatch): a run the trampoline did not start leaves a
// stale mark, and a run without a valid mark is not seeded.

// runEnvMarkName is the mark's file in the run's unit dir.
const runEnvMarkName = "grove-run-env"

// RunEnvIgnored reports whether the variable name is left out of what a
// seeded run's environment is compared by (see the rule).
func RunEnvIgnored(name string) bool {
	if runEnvSkipped(name) {
		return true
	}
	switch name {
	case "OUT_DIR", "TARGET", "HOST", "NUM_JOBS", "OPT_LEVEL", "DEBUG", "PROFILE",
		"RUSTC", "RUSTDOC", "RUSTC_LINKER", "RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER",
		"RUST_RECURSION_COUNT", "LD_LIBRARY_PATH", "PWD":
		return true
	}
	for _, p := range []string{"CARGO", "__CARGO", "DEP_", "RUSTUP_", "GIT_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// runEnvDigest is the digest of one ambient value, the tree normalized.
func runEnvDigest(tree, value string) string {
	if tree != "" {
		value = NewNormalizer(map[string]string{Cwd: tree}).Normalize(value)
	}
	return filehash.Bytes([]byte(value))
}

// runUnitDir is the run's unit dir, or "" when OUT_DIR is not its out/
// (in both of Cargo's layouts).
func runUnitDir(outDir string) string {
	if filepath.Base(outDir) != "out" {
		return ""
	}
	return filepath.Dir(outDir)
}

// invokedStampFile is the file Cargo writes before every run of the unit
// whose dir is dir: invoked.timestamp in the legacy layout's
// build/<pkg>-<hash>/, in run/ of the per-unit layout's build/<pkg>/<hash>/.
func invokedStampFile(dir string) (os.FileInfo, bool) {
	for _, p := range []string{filepath.Join(dir, "invoked.timestamp"), filepath.Join(dir, "run", "invoked.timestamp")} {
		if fi, err := os.Stat(p); err == nil {
			return fi, true
		}
	}
	return nil, false
}

func invokedStamp(dir string) (string, bool) {
	fi, ok := invokedStampFile(dir)
	if !ok {
		return "", false
	}
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10), true
}

// MarkRunEnv writes the mark of a run Cargo starts with environ (the
// trampoline's own environment) into its unit dir.
func MarkRunEnv(environ []string) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	dir := runUnitDir(env["OUT_DIR"])
	if dir == "" {
		return
	}
	_ = os.Remove(filepath.Join(dir, runEnvMarkName))
	// The tree of the build, found as the build-run key finds it: from
	// the package, else the target dir, else the shell's dir (a
	// registry package's run).
	targetRoot, _ := findTargetRoot(env["OUT_DIR"])
	tree := worktreeRoot(env["CARGO_HOME"], env["CARGO_MANIFEST_DIR"], targetRoot, env["PWD"])
	stamp, ok := invokedStamp(dir)
	if !ok {
		return
	}
	ds := map[string]string{}
	for k, v := range env {
		if !RunEnvIgnored(k) {
			ds[k] = runEnvDigest(tree, v)
		}
	}
	writeRunEnvMark(dir, stamp, ds)
}

func writeRunEnvMark(dir, stamp string, ds map[string]string) {
	names := make([]string, 0, len(ds))
	for k := range ds {
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString(stamp + "\n")
	for _, k := range names {
		b.WriteString(ds[k] + " " + k + "\n")
	}
	p := filepath.Join(dir, runEnvMarkName)
	if os.WriteFile(p, b.Bytes(), 0o644) != nil {
		return
	}
	// Dated as the run's stamp: the mark is no output, and a unit dir's
	// newest file is what seeding compares dependents with.
	if fi, ok := invokedStampFile(dir); ok {
		_ = os.Chtimes(p, fi.ModTime(), fi.ModTime())
	}
}

// readRunEnvMark returns the digests of the mark in the unit dir dir, and
// false when there is none or it is not of the run Cargo last started.
func readRunEnvMark(dir string) (map[string]string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, runEnvMarkName))
	if err != nil {
		return nil, false
	}
	stamp, ok := invokedStamp(dir)
	if !ok {
		return nil, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || sc.Text() != stamp {
		return nil, false
	}
	ds := map[string]string{}
	for sc.Scan() {
		d, k, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			return nil, false
		}
		ds[k] = d
	}
	return ds, sc.Err() == nil
}

// SeedEnviron is the environment that stands for a build of a new
// worktree when it is seeded: environ, the seeding process's, less what
// git adds for a hook (its exec dir first on PATH).
func SeedEnviron(environ []string) []string {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if ex := env["GIT_EXEC_PATH"]; k == "PATH" && ex != "" {
			v = strings.TrimPrefix(v, ex+string(os.PathListSeparator))
		}
		out = append(out, k+"="+v)
	}
	return out
}

// RunEnvMatches reports whether the run whose unit dir is donorDir ran
// with the environment a build of the tree here gets: names are the
// ambient variables set where the seed runs, and lookup returns what a
// build in that tree gets for a name (set in the environment or by
// `[env]`). A run without a valid mark does not match.
func RunEnvMatches(donorDir, here string, names []string, lookup func(name string) (string, bool)) bool {
	ds, ok := readRunEnvMark(donorDir)
	if !ok {
		return false
	}
	all := map[string]bool{}
	for k := range ds {
		all[k] = true
	}
	for _, k := range names {
		if !RunEnvIgnored(k) {
			all[k] = true
		}
	}
	for k := range all {
		v, set := lookup(k)
		d, had := ds[k]
		if set != had || set && runEnvDigest(here, v) != d {
			return false
		}
	}
	return true
}

// CopyRunEnvMark writes into the unit dir dst, a copy of the unit dir src
// whose invoked.timestamp has been stamped anew, the mark src holds: the
// digests hold no tree, so they are the new tree's too.
func CopyRunEnvMark(src, dst string) {
	ds, ok := readRunEnvMark(src)
	if !ok {
		return
	}
	if stamp, ok := invokedStamp(dst); ok {
		writeRunEnvMark(dst, stamp, ds)
	}
}
