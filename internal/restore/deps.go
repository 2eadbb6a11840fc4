package restore

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/rustc"
)

// DepOutputs lists the outputs, in this tree, of the units Cargo makes inv
// depend on: the files whose mtimes Cargo compares with the unit's own
// outputs. It finds them from what Cargo passes, so it holds for both of
// Cargo's target-dir layouts (deps/ and build/<pkg>-<hash>/ up to Cargo
// 1.99; build/<pkg>/<hash>/{out,run}/ from 1.100, and on nightly with
// -Zbuild-dir-new-layout) and for any build-dir:
//
//   - every --extern file, and the rmeta beside an rlib: Cargo passes a
//     library's rmeta exactly when the unit needs only its metadata
//     (cargo 1.95, compiler/mod.rs extern_args: only_requires_rmeta, or a
//     check unit), and then compares that rmeta alone (fingerprint
//     check_filesystem: dep.only_requires_rmeta); when it passes the rlib
//     it compares the library's newest output, rlib or rmeta. So the rlib
//     beside a passed rmeta is not taken: a fresh rlib (rule 2) must not
//     make every dependent that reads only the metadata fresh as well;
//   - the programs an integration test, bench or example depends on, which
//     Cargo names in CARGO_BIN_EXE_<name>;
//   - what the package's build-script run wrote next to the OUT_DIR Cargo
//     passes (OUT_DIR is "<run dir>/out"): its output file beside OUT_DIR
//     (`output`, old layout) or in run/ beside it (`run/stdout`, new
//     layout). Every regular file there is taken, not a fixed name.
//
// Taking a file Cargo does not compare can only make a restore write one
// more fresh file; missing one makes Cargo rebuild the unit on every build.
func DepOutputs(inv *rustc.Invocation, cwd string, env map[string]string) []string {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(cwd, p)
	}
	var out []string
	for _, e := range inv.Externs {
		if e.Path == "" {
			continue // a sysroot crate: not built in this tree
		}
		p := abs(e.Path)
		out = append(out, p)
		if strings.HasSuffix(p, ".rlib") {
			out = append(out, rustc.SiblingLib(p))
		}
	}
	var bins []string
	for k, v := range env {
		if strings.HasPrefix(k, "CARGO_BIN_EXE_") && v != "" {
			bins = append(bins, abs(v))
		}
	}
	sort.Strings(bins)
	out = append(out, bins...)
	if od := env["OUT_DIR"]; od != "" && filepath.Base(od) == "out" {
		out = append(out, buildScriptRun(filepath.Dir(abs(od)))...)
	}
	return out
}

// buildScriptRun lists the regular files a build-script run left in its
// run dir (the parent of OUT_DIR) and in that dir's run/.
func buildScriptRun(runDir string) []string {
	var files []string
	for _, dir := range []string{runDir, filepath.Join(runDir, "run")} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	return files
}

// Newest returns the newest mtime among paths; files that do not exist
// are skipped.
func Newest(paths []string) time.Time {
	var newest time.Time
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	return newest
}
