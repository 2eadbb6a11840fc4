package cargolock

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// User is a running process that uses a dir: its program, its working
// directory, or a file it has mapped (a shared library) lies inside.
type User struct {
	PID  int    `json:"pid"`
	Path string `json:"path"` // the file or dir inside that it uses
}

// Users returns the processes whose executable, working directory or
// mapped files lie inside one of dirs, read from /proc (Linux; none
// elsewhere, and only the processes this user may inspect).
//
// This is the sign of use that Cargo's locks do not give: Cargo releases
// its build lock before `cargo test` runs the test binaries and before
// `cargo run` runs the program, which then run from deps/ (or out/) and
// target/<profile>/ while the dir looks idle. Deleting the dir under them
// fails the tests.
func Users(dirs ...string) []User {
	var prefixes []string
	for _, d := range dirs {
		d, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		prefixes = append(prefixes, d)
		if real, err := filepath.EvalSymlinks(d); err == nil && real != d {
			prefixes = append(prefixes, real)
		}
	}
	inside := func(p string) bool {
		p = strings.TrimSuffix(p, " (deleted)")
		for _, d := range prefixes {
			if p == d || strings.HasPrefix(p, d+string(filepath.Separator)) {
				return true
			}
		}
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []User
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		base := filepath.Join("/proc", e.Name())
		if p, ok := usesDir(base, inside); ok {
			out = append(out, User{PID: pid, Path: p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// usesDir checks one process: exe, cwd, then its file mappings.
func usesDir(base string, inside func(string) bool) (string, bool) {
	for _, l := range []string{"exe", "cwd"} {
		if p, err := os.Readlink(filepath.Join(base, l)); err == nil && inside(p) {
			return strings.TrimSuffix(p, " (deleted)"), true
		}
	}
	f, err := os.Open(filepath.Join(base, "maps"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "7f…-7f… r-xp 00000000 fe:00 123 /path/to/lib.so"
		line := sc.Text()
		if i := strings.IndexByte(line, '/'); i >= 0 && inside(line[i:]) {
			return strings.TrimSuffix(line[i:], " (deleted)"), true
		}
	}
	return "", false
}
