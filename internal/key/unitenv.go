package key

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/filehash"
)

// Seeding a compiled unit: the variables grove keys and Cargo does not.
//
// A unit's key holds variables Cargo's fingerprint of the unit does not:
// those envKeyed names that Cargo does not set (RUSTC_BOOTSTRAP, the
// linker's LIBRARY_PATH, LD_RUN_PATH, COMPILER_PATH, GCC_EXEC_PREFIX, the
// Apple deployment targets and SDKROOT) and every name in GROVE_EXTRA_ENV
// (read by a proc-macro or a linker where grove cannot see it). A unit
// grove seed copies skips the key, and Cargo finds it fresh whatever these
// are in the new tree's build, while plain cargo in a fresh worktree
// compiles it with that build's values. So each compile or restore of a
// unit leaves an env mark beside its dep-info: a digest of each such
// variable that was set (never a value: the target dir is no place for a
// token), and the seed copies a unit only when every variable the mark
// names, and every such variable set where the seed runs, has the same
// digest there (unset on both sides counts as the same). A unit without
// a mark (compiled unobserved, or by a grove before marks) is not copied.
//
// Values are compared exactly: a path of the donor in LIBRARY_PATH is not
// the new tree's, and a variable named in GROVE_EXTRA_ENV is keyed exactly
// too.

// EnvMarkName is the env mark of the unit whose dep-info file is
// depInfoName: beside it, named by the unit's hash as its other files are
// (no "-", see ReadsFileName).
func EnvMarkName(depInfoName string) string {
	return strings.TrimSuffix(depInfoName, ".d") + ".groveenv"
}

// seedKeyed reports whether name is a variable of the rule: keyed for
// every unit, and not set by Cargo.
func seedKeyed(name string) bool {
	return envKeyed(name) && name != "CARGO" && name != "OUT_DIR" && !strings.HasPrefix(name, "CARGO_")
}

// envMark is the mark's text for an environment: "NAME digest" lines,
// sorted, for the rule's variables that are set (extra: the
// GROVE_EXTRA_ENV names).
func envMark(env map[string]string, extra map[string]bool) []byte {
	var names []string
	for k := range env {
		if seedKeyed(k) || extra[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString("grove-env/1\n")
	for _, k := range names {
		fmt.Fprintf(&b, "%s %s\n", k, filehash.Bytes([]byte(env[k])))
	}
	return b.Bytes()
}

// WriteEnvMark leaves this unit's env mark beside its dep-info, unless it
// is there already with the same text. It is written by rename: a seeded
// tree's mark may be a hard link of the donor's.
func (u *Unit) WriteEnvMark() error {
	p := filepath.Join(u.OutDir, EnvMarkName(u.Inv.DepInfoName()))
	text := envMark(u.Env, u.extraEnv)
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, text) {
		return nil
	}
	return atomicfile.Write(p, text, 0o666)
}

// DropEnvMark removes the env mark of the unit whose dep-info file is
// depInfo, in outDir: a compile grove did not observe leaves none.
func DropEnvMark(outDir, depInfoName string) {
	_ = os.Remove(filepath.Join(outDir, EnvMarkName(depInfoName)))
}

// EnvMarkMatches reports whether the unit whose env mark is at mark was
// compiled with what a build here gets: names are the variables set where
// the seed runs, lookup what a build gets for a name, and extra the
// GROVE_EXTRA_ENV names there. No mark, or one that does not parse, does
// not match.
func EnvMarkMatches(mark string, names []string, lookup func(string) (string, bool), extra []string) bool {
	b, err := os.ReadFile(mark)
	if err != nil {
		return false
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) == 0 || lines[0] != "grove-env/1" {
		return false
	}
	want := map[string]string{}
	for _, l := range lines[1:] {
		k, d, ok := strings.Cut(l, " ")
		if !ok {
			return false
		}
		want[k] = d
	}
	check := map[string]bool{}
	for k := range want {
		check[k] = true
	}
	for _, k := range names {
		if seedKeyed(k) {
			check[k] = true
		}
	}
	for _, k := range extra {
		check[k] = true
	}
	for k := range check {
		v, set := lookup(k)
		d, marked := want[k]
		if set != marked || set && filehash.Bytes([]byte(v)) != d {
			return false
		}
	}
	return true
}
