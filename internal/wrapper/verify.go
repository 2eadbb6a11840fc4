package wrapper

import (
	"github.com/grove-rs/grove/internal/key"

	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/arhash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
)

// verify (GROVE_VERIFY=1) compiles a unit that was just served from the
// store into a scratch dir and compares the outputs, the way Go's
// GODEBUG=goverifycache=1 does. A difference is a key bug (or a
// non-deterministic compile) and is written to GROVE_LOG and the event log.
//
// An entry compiled in this tree is compared byte for byte. One compiled in
// another tree (the hits that matter) differs from a compile here in the
// tree paths rustc records, by design; it is compared as
// verifycmp.go describes, with the compile here run at mirror paths of the
// other tree's lengths, twice.
//
// The stored outputs are read first, right after the restore: a trim
// running beside the build may remove a blob before the comparison, and
// an output that cannot be read is not checked (skipped), not a
// difference.
func (w *wrapper) verify(u *key.Unit, e *record.Entry) string {
	stored, err := w.storedOutputs(e)
	if err != nil {
		return "verify: skipped (" + err.Error() + ")"
	}
	if e.Origin == u.Origin() {
		got, err := w.verifyCompile(u, nil)
		if err != nil {
			return "verify: " + err.Error()
		}
		defer os.RemoveAll(got)
		var bad []string
		for _, o := range e.Outputs {
			b, err := os.ReadFile(filepath.Join(got, o.Name))
			if err != nil || !sameOutput(stored[o.Name], b) {
				bad = append(bad, o.Name)
			}
		}
		return w.verdict(u, bad, "verify: identical")
	}
	originCwd, originTarget, ok := strings.Cut(e.Origin, "\x00")
	if !ok || originCwd == "" || originTarget == "" {
		return "verify: skipped (no origin recorded)"
	}
	origin := map[string]string{key.Cwd: originCwd, key.Target: originTarget}
	if u.Env["OUT_DIR"] == "" {
		// Without a build script no source lies in the target dir, so no
		// target path is recorded: compile at this tree's.
		origin[key.Target] = u.TargetRoot
	}
	// Two compiles at two mirror paths show which metadata bytes depend on
	// the paths (verifycmp.go); one is enough when nothing is mirrored or
	// no output holds metadata.
	n := 1
	if origin[key.Cwd] != u.Cwd || origin[key.Target] != u.TargetRoot {
		for _, o := range e.Outputs {
			if holdsMetadata(o.Name) {
				n = 2
			}
		}
	}
	var sides [2]struct {
		dir   string
		paths treePaths
	}
	for i := range n {
		m, err := newMirror(u, origin)
		if err != nil {
			return "verify: skipped (" + err.Error() + ")"
		}
		defer m.remove()
		dir, err := w.verifyCompile(u, m)
		if err != nil {
			return "verify: " + err.Error()
		}
		defer os.RemoveAll(dir)
		sides[i].dir, sides[i].paths = dir, m.treePaths()
	}
	if n == 1 {
		sides[1] = sides[0]
	}
	origin[key.Target] = originTarget
	storedPaths := (&mirror{paths: origin}).treePaths()
	var bad []string
	for _, o := range e.Outputs {
		b, err2 := os.ReadFile(filepath.Join(sides[0].dir, o.Name))
		b2, err3 := os.ReadFile(filepath.Join(sides[1].dir, o.Name))
		if err2 != nil || err3 != nil {
			bad = append(bad, o.Name+" (unreadable)")
			continue
		}
		if d := crossCompare(o.Name, crossSide{stored[o.Name], storedPaths}, crossSide{b, sides[0].paths}, crossSide{b2, sides[1].paths}); d != "" {
			bad = append(bad, o.Name+" ("+d+")")
		}
	}
	return w.verdict(u, bad, "verify: identical (cross-tree)")
}

// storedOutputs reads the entry's outputs from the store, by name.
func (w *wrapper) storedOutputs(e *record.Entry) (map[string][]byte, error) {
	m := make(map[string][]byte, len(e.Outputs))
	for _, o := range e.Outputs {
		b, err := os.ReadFile(w.st.BlobPath(string(o.Digest)))
		if err != nil {
			return nil, fmt.Errorf("stored %s unreadable, trimmed meanwhile? %w", o.Name, err)
		}
		m[o.Name] = b
	}
	return m, nil
}

// holdsMetadata reports whether an output carries crate metadata: an rmeta,
// an rlib's lib.rmeta, a dylib's or proc-macro's .rustc section.
func holdsMetadata(name string) bool {
	for _, ext := range []string{".rmeta", ".rlib", ".so", ".dylib", ".dll"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func (w *wrapper) verdict(u *key.Unit, bad []string, ok string) string {
	if len(bad) > 0 {
		w.logf("VERIFY MISMATCH %s: %s", u.Inv.CrateName, strings.Join(bad, "; "))
		return "verify: differs: " + strings.Join(bad, "; ")
	}
	return ok
}

// verifyCompile runs the unit's compile into a new scratch dir and returns
// it. With a mirror, the compile runs at the mirror's paths: its working
// dir, and every argument and environment value naming this tree, moved
// there.
func (w *wrapper) verifyCompile(u *key.Unit, m *mirror) (string, error) {
	scratch, err := os.MkdirTemp(u.TargetRoot, ".grove-verify-")
	if err != nil {
		return "", err
	}
	move := func(s string) string { return s }
	if m != nil {
		paths := u.Norm.Paths()
		for ph, p := range m.paths {
			paths[ph] = p
		}
		to := key.NewNormalizer(paths)
		move = func(s string) string { return to.Denormalize(u.Norm.Normalize(s)) }
	}
	var args []string
	for _, o := range rustc.SplitOptions(u.Inv.Args) {
		switch {
		case o.Flag == "--out-dir":
			args = append(args, "--out-dir", scratch)
		case (o.Flag == "-C" || o.Flag == "--codegen") && strings.HasPrefix(o.Value, "incremental="):
			// Incremental mode changes codegen partitioning, so keep it, but
			// start from empty state instead of touching the tree's.
			args = append(args, "-C", "incremental="+filepath.Join(scratch, "incr"))
		case o.Flag == "":
			args = append(args, move(o.Value))
		case o.Value == "":
			args = append(args, o.Flag)
		default:
			args = append(args, o.Flag, move(o.Value))
		}
	}
	cmd := exec.Command(u.Inv.Rustc, args...)
	if m != nil {
		cmd.Dir = m.paths[key.Cwd]
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if k == "PWD" {
				v = cmd.Dir
			}
			cmd.Env = append(cmd.Env, k+"="+move(v))
		}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(scratch)
		return "", fmt.Errorf("compile failed: %v: %s", err, lastLine(out))
	}
	return scratch, nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// mirror gives a compile here the other tree's path lengths: its working
// dir is a real directory (rustc records getcwd(3), which resolves
// symlinks) of the length of the other tree's working dir, holding a
// symlink to every entry of this tree's; its target dir is a symlink of
// the length of the other tree's target dir to this tree's. A path of the
// other tree that equals this tree's is used as it is.
type mirror struct {
	paths   map[string]string // placeholder → path
	removes []string
}

func newMirror(u *key.Unit, origin map[string]string) (*mirror, error) {
	m := &mirror{paths: map[string]string{}}
	for _, ph := range []string{key.Cwd, key.Target} {
		here := u.Norm.Paths()[ph]
		if ph == key.Cwd {
			here = u.Cwd
		}
		if origin[ph] == here {
			m.paths[ph] = here
			continue
		}
		p, err := exactPath(len(origin[ph]))
		if err != nil {
			m.remove()
			return nil, err
		}
		if ph == key.Target {
			err = os.Symlink(u.TargetRoot, p)
		} else {
			err = farm(u.Cwd, p)
		}
		m.removes = append(m.removes, p)
		if err != nil {
			m.remove()
			return nil, err
		}
		m.paths[ph] = p
	}
	return m, nil
}

// farm makes dir a real directory holding a symlink to every entry of src.
func farm(src, dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// exactPath returns a new, unused path of exactly n bytes in the temp dir
// (nothing is created there).
func exactPath(n int) (string, error) {
	base := os.TempDir()
	room := n - len(base) - 1
	if room < 6 {
		return "", fmt.Errorf("cannot mirror a path of %d bytes under %s", n, base)
	}
	for try := 0; try < 100; try++ {
		name := []byte(fmt.Sprintf("gv%x", rand.Uint64()))
		for len(name) < room {
			name = append(name, 'v')
		}
		p := filepath.Join(base, string(name[:room]))
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no free mirror path of %d bytes", n)
}

func (m *mirror) remove() {
	for _, p := range m.removes {
		os.RemoveAll(p) // a symlink farm: removes the links, never their targets
	}
}

func (m *mirror) treePaths() treePaths {
	return treePaths{
		{path: []byte(m.paths[key.Cwd]), filler: 'C'},
		{path: []byte(m.paths[key.Target]), filler: 'T'},
	}
}

// sameOutput compares two outputs of compiles in the same tree; archives
// (rlibs) member by member, since incremental compiles name their object
// files per session: the names are paired by position and one side's
// names are replaced by the other's inside the members that mention them.
func sameOutput(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ma, ok1 := arhash.MemberContents(a)
	mb, ok2 := arhash.MemberContents(b)
	if !ok1 || !ok2 || len(ma) != len(mb) {
		return false
	}
	for i := range ma {
		da := ma[i].Data
		for j := range ma {
			na, nb := ma[j].Name, mb[j].Name
			if na != nb && len(na) > 8 {
				da = bytes.ReplaceAll(da, []byte(na), []byte(nb))
			}
		}
		if !bytes.Equal(da, mb[i].Data) {
			return false
		}
	}
	return true
}
