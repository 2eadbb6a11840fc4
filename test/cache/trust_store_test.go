package cache_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7, D: the store is a trust boundary. Each test builds the scenario
// with plain cargo and through grove (worktrees a and b sharing a store)
// and compares what a user sees.

// app is a one-package crate: a library and a binary printing its value and
// a marker string that tests can find inside the binary.
func app(v string) map[string]string {
	return map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/lib.rs":  "pub fn v() -> u32 { " + v + " }\n",
		"src/main.rs": "fn main() { println!(\"MARK-v1 {}\", app::v()); }\n",
	}
}

// cargoShell runs cargo in worktree wt as cargoOut does, behind a shell
// prefix (e.g. "umask 002"): the umask is per process, and the test
// process's own is shared by parallel tests.
func (s *side) cargoShell(wt, prefix string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", prefix + ` && exec cargo "$@"`, "sh"}, args...)...)
	cmd.Dir = s.wt(wt)
	cmd.Env = append(cleanEnv(), "GROVE_DIR="+s.e.store, "CARGO_TERM_COLOR=never")
	if s.grove {
		cmd.Env = append(cmd.Env, "RUSTC_WRAPPER="+groveBin)
	} else {
		cmd.Env = append(cmd.Env, "RUSTC_WRAPPER=")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Sprintf("%v\n%s", err, lastLines(string(out), 3))
	}
	return "ok"
}

// grove runs a grove command against the side's store; on the plain side
// it does nothing. It returns the exit status and output.
func (s *side) groveCmd(args ...string) (int, string) {
	s.t.Helper()
	if !s.grove {
		return 0, ""
	}
	cmd := exec.Command(groveBin, args...)
	cmd.Env = append(cleanEnv(), "GROVE_DIR="+s.e.store)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		s.t.Fatalf("grove %v: %v", args, err)
	}
	return 0, string(out)
}

// blobOf returns the store path of the blob holding file's content (blobs
// are named by digest; a program is stored as a copy, not a link), or "" on
// the plain side.
func (s *side) blobOf(file string) string {
	s.t.Helper()
	if !s.grove {
		return ""
	}
	want, err := os.ReadFile(file)
	if err != nil {
		s.t.Fatal(err)
	}
	var found string
	filepath.WalkDir(filepath.Join(s.e.store, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Size() == int64(len(want)) {
			if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, want) {
				found = p
			}
		}
		return nil
	})
	if found == "" {
		s.t.Fatalf("no blob holds the content of %s", file)
	}
	return found
}

// otherUser returns a second local account for the multi-user cases, made
// with `useradd grove2` and a member of group grovetest.
func otherUser(t *testing.T) *user.User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the multi-user cases run as root (they switch to a second user with runuser)")
	}
	u, err := user.Lookup("grove2")
	if err != nil {
		t.Fatalf("second user: %v (useradd -m grove2; groupadd grovetest; usermod -aG grovetest grove2)", err)
	}
	return u
}

// shareWithGroup lets group grovetest reach dir: every parent up to / gets
// o+x, and dir becomes setgid grovetest, so that what is created below it
// belongs to that group (as a shared project directory would).
func shareWithGroup(t *testing.T, dir string) {
	t.Helper()
	g, err := user.LookupGroup("grovetest")
	if err != nil {
		t.Fatalf("group grovetest: %v", err)
	}
	var gid int
	fmt.Sscan(g.Gid, &gid)
	if err := os.Chown(dir, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o775|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	for p := filepath.Dir(dir); p != "/"; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			os.Chmod(p, fi.Mode().Perm()|0o011)
		}
	}
}

// Issue 7 case 25: with umask 002 the store was group-writable; a second
// user replaced the binary's blob (same size, mtime put back) and the first
// user's next build in another worktree ran it.
func TestTrustOtherUserCannotPoisonTheStore(t *testing.T) {
	t.Parallel()
	u := otherUser(t)
	tw := newTwin(t, app("1"))
	shareWithGroup(t, filepath.Dir(tw.grove.e.store))
	tw.step("a: cargo build with umask 002", func(s *side) string { return s.cargoShell("a", "umask 002", "build") })
	tw.step("a: run", func(s *side) string { return s.run("a", "target/debug/app") })

	blob := tw.grove.blobOf(filepath.Join(tw.grove.wt("a"), "target/debug/app"))
	poison := `set -e; b="$1"; t="$(dirname "$b")/.p$$"
printf '#!/bin/sh\necho POISONED\nexit 0\n' > "$t"
head -c $(( $(stat -c %s "$b") - $(stat -c %s "$t") )) /dev/zero >> "$t"
chmod 755 "$t"; touch -r "$b" "$t"; mv -f "$t" "$b"`
	out, err := exec.Command("runuser", "-u", u.Username, "--", "sh", "-c", poison, "sh", blob).CombinedOutput()
	if err == nil {
		t.Errorf("user %s replaced blob %s", u.Username, blob)
	} else if !strings.Contains(string(out), "Permission denied") {
		t.Errorf("poisoning failed, but not for want of permission: %v\n%s", err, out)
	}

	tw.step("b: cargo build with umask 002", func(s *side) string { return s.cargoShell("b", "umask 002", "build") })
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })

	// The store's directories are private whatever the umask.
	filepath.WalkDir(tw.grove.e.store, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() != 0o700 {
				t.Errorf("store dir %s mode %o, want 700", p, fi.Mode().Perm())
			}
		}
		return nil
	})
}

// A store that others can write (a group-writable one from an older grove,
// or one owned by another user) is never used silently: the build runs as
// plain cargo's, grove writes nothing into it, and `grove verify` says why.
func TestTrustUntrustedStoreIsRefused(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, app("1"))
	tw.step("a: cargo build", func(s *side) string { return s.cargo("a", "build") })
	os.Chmod(tw.grove.e.store, 0o775)
	before := treeListing(t, tw.grove.e.store)
	tw.step("b: cargo build with a group-writable store", func(s *side) string { return s.cargo("b", "build") })
	tw.both(func(s *side) { s.write("b", map[string]string{"src/lib.rs": "pub fn v() -> u32 { 2 }\n"}) })
	if _, _, errOut := tw.grove.cargoOut("b", nil, "build"); !strings.Contains(errOut, "refusing a store others could write") {
		t.Errorf("the build did not say why it ran without the cache:\n%s", errOut)
	}
	tw.plain.cargo("b", "build")
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
	if after := treeListing(t, tw.grove.e.store); after != before {
		t.Errorf("grove wrote into a store it refused:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	code, out := tw.grove.groveCmd("verify")
	if code == 0 || !strings.Contains(out, "group- or world-writable") {
		t.Errorf("grove verify on a group-writable store: exit %d\n%s", code, out)
	}
}

// treeListing names every file under dir with its size.
func treeListing(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			fmt.Fprintf(&b, "%s %d\n", strings.TrimPrefix(p, dir), fi.Size())
		}
		return nil
	})
	return b.String()
}

// flipMarker rewrites "MARK-v1" as "MARK-v9" inside file, in place (the
// inode and size stay), and puts its mtime back: what a tool writing
// through a hard link and restoring the date (strip -p) does.
func flipMarker(t *testing.T, file string) {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("MARK-v1"))
		if i < 0 {
			break
		}
		f.WriteAt([]byte("MARK-v9"), int64(off+i))
		off += i + 7
		n++
	}
	f.Close()
	if n == 0 {
		t.Fatalf("no marker in %s", file)
	}
	if err := os.Chtimes(file, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// Issue 7 case 26, issue 8 item 3: a blob changed in place with its size and
// mtime put back passes restore's one-stat check (by decision: see
// store.CheckBlob); `grove verify` finds it, quarantines it and drops its
// entry, and the next build in another worktree compiles instead of running
// the changed program.
func TestTrustVerifyFindsBlobFlippedInPlace(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, app("1"))
	tw.step("a: cargo build", func(s *side) string { return s.cargo("a", "build") })
	// A program is stored as a copy, so a write into a's binary stays in
	// a; what is tested here is a blob changed in place by anything (a
	// tool writing through a link, a disk fault) with size and mtime kept.
	flipMarker(t, tw.grove.blobOf(filepath.Join(tw.grove.wt("a"), "target/debug/app")))

	code, out := tw.grove.groveCmd("verify", "--json")
	if code != 1 || !strings.Contains(out, `"quarantined"`) {
		t.Errorf("grove verify: exit %d, want 1 with a quarantined blob\n%s", code, out)
	}
	if code, out := tw.grove.groveCmd("verify"); code != 0 {
		t.Errorf("second grove verify: exit %d\n%s", code, out)
	}
	if _, out := tw.grove.groveCmd("stats", "--json"); !strings.Contains(out, `"blobs": 1`) {
		t.Errorf("grove stats does not count the quarantined blob:\n%s", out)
	}
	tw.step("b: cargo build", func(s *side) string { return s.cargo("b", "build") })
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
}

// Issue 7 case 13, the store's part: restored outputs that are hard links
// of read-only blobs broke every later build without grove ("output file
// ... is not writeable") and cargo install installed a 0555 binary. Blobs
// are owner-writable like cargo's own outputs; and no build in a target dir
// changes what the store serves to other trees.
func TestTrustRestoredOutputsBehaveLikeCargos(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, app("1"))
	tw.step("a: cargo build", func(s *side) string { return s.cargo("a", "build") })
	tw.step("b: cargo build (restored)", func(s *side) string { return s.cargo("b", "build") })
	tw.step("b: output modes", func(s *side) string { return outputModes(t, s.wt("b")) })
	for i, how := range [][]string{{"GROVE_DISABLE=1"}, {"RUSTC_WRAPPER="}} {
		v := fmt.Sprint(i + 2)
		tw.both(func(s *side) { s.write("b", map[string]string{"src/lib.rs": "pub fn v() -> u32 { " + v + " }\n"}) })
		tw.step("b: cargo build with "+how[0], func(s *side) string { return s.cargoEnv("b", how, "build") })
		tw.step("b: run after "+how[0], func(s *side) string { return s.run("b", "target/debug/app") })
	}
	tw.step("b: cargo install", func(s *side) string {
		root := filepath.Join(s.wt("b"), "inst")
		if r := s.cargo("b", "install", "--offline", "--path", ".", "--root", root); r != "ok" {
			return r
		}
		fi, err := os.Stat(filepath.Join(root, "bin", "app"))
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("installed %o", fi.Mode().Perm())
	})
	if code, out := tw.grove.groveCmd("verify"); code != 0 {
		t.Errorf("builds without grove changed the store: grove verify exit %d\n%s", code, out)
	}
	tw.both(func(s *side) { s.addWorktree("c") })
	tw.step("c: cargo build", func(s *side) string { return s.cargo("c", "build") })
	tw.step("c: run", func(s *side) string { return s.run("c", "target/debug/app") })
}

// outputModes lists the modes of the binary and the library's outputs in a
// worktree's target/debug, by kind (the hashed names differ between trees).
func outputModes(t *testing.T, wt string) string {
	t.Helper()
	var out []string
	for _, pat := range []string{"target/debug/app", "target/debug/deps/libapp-*.rmeta", "target/debug/deps/libapp-*.rlib"} {
		ms, _ := filepath.Glob(filepath.Join(wt, pat))
		for _, m := range ms {
			fi, err := os.Stat(m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %o", filepath.Ext(m), fi.Mode().Perm()))
		}
	}
	return strings.Join(out, "\n")
}

// Issue 7 case 14: an entry that is valid JSON but empty restored nothing
// and counted as a hit: cargo exited 0 with no binary, in every new
// worktree, until the store was edited by hand. Such an entry is dropped
// and the unit compiled.
func TestTrustEmptyEntryIsNotAHit(t *testing.T) {
	t.Parallel()
	for _, empty := range []string{"{}", "null"} {
		t.Run(empty, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, app("1"))
			tw.step("a: cargo build", func(s *side) string { return s.cargo("a", "build") })
			n := 0
			filepath.WalkDir(filepath.Join(tw.grove.e.store, "objects", "entry"), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					os.WriteFile(p, []byte(empty), 0o644)
					n++
				}
				return nil
			})
			if n == 0 {
				t.Fatal("no entries stored")
			}
			for _, wt := range []string{"b", "c"} {
				tw.both(func(s *side) {
					if wt == "c" {
						s.addWorktree("c")
					}
				})
				tw.step(wt+": cargo build", func(s *side) string { return s.cargo(wt, "build") })
				tw.step(wt+": run", func(s *side) string { return s.run(wt, "target/debug/app") })
			}
		})
	}
}

// cargoAs runs cargo in worktree wt as user u, through grove on the grove
// side, with the toolchain of the test process (its sysroot's bin dir, so
// no rustup state of root's is needed) and extra env.
func (s *side) cargoAs(u *user.User, wt string, extra []string, args ...string) string {
	s.t.Helper()
	sysroot, err := exec.Command("rustc", "--print", "sysroot").Output()
	if err != nil {
		s.t.Fatal(err)
	}
	bin := filepath.Join(strings.TrimSpace(string(sysroot)), "bin")
	env := []string{
		// RUSTC by absolute path: a bare "rustc" is issue 7 case 15.
		"PATH=" + bin + ":/usr/bin:/bin", "RUSTC=" + filepath.Join(bin, "rustc"),
		"HOME=" + u.HomeDir, "GROVE_DIR=" + s.e.store, "CARGO_TERM_COLOR=never", "RUSTC_WRAPPER=",
	}
	if s.grove {
		env = append(env, "RUSTC_WRAPPER="+groveBin)
	}
	cmd := exec.Command("runuser", append([]string{"-u", u.Username, "--", "env", "-i"}, append(append(env, extra...), append([]string{"cargo"}, args...)...)...)...)
	cmd.Dir = s.wt(wt)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Sprintf("%v\n%s", err, lastLines(string(out), 3))
	}
	return "ok"
}

// reachable gives other users search access to every parent of path.
func reachable(path string) {
	for p := path; p != "/"; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			os.Chmod(p, fi.Mode()&(fs.ModePerm|fs.ModeSetgid)|0o011)
		}
	}
}

// A shared store is an explicit choice (GROVE_SHARED_STORE=group) and works
// across users: what one member of the group compiled, another restores,
// with the result plain cargo gives; the store stays out of others' reach.
func TestTrustGroupStoreSharedBetweenUsers(t *testing.T) {
	t.Parallel()
	u := otherUser(t)
	tw := newTwin(t, app("1"))
	shareWithGroup(t, filepath.Dir(tw.grove.e.store))
	reachable(filepath.Dir(groveBin))
	var uid, gid int
	fmt.Sscan(u.Uid, &uid)
	fmt.Sscan(u.Gid, &gid)
	tw.both(func(s *side) {
		reachable(s.wt("b"))
		filepath.WalkDir(s.wt("b"), func(p string, _ fs.DirEntry, err error) error {
			if err == nil {
				os.Lchown(p, uid, gid)
			}
			return nil
		})
	})
	shared := []string{"GROVE_SHARED_STORE=group"}
	tw.step("a: cargo build as root", func(s *side) string { return s.cargoEnv("a", shared, "build") })
	// Both sides failing alike would pass the comparison: require success.
	if got := tw.step("b: cargo build as "+u.Username, func(s *side) string { return s.cargoAs(u, "b", shared, "build") }); got != "ok" {
		t.Fatalf("cargo as %s: %s (the toolchain must be reachable: chmod o+x on the dirs above it)", u.Username, got)
	}
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })

	evs := mustEvents(t, tw.grove.e)
	hits := 0
	for _, ev := range evs {
		if ev.Kind == "hit" && strings.HasPrefix(ev.Dir, tw.grove.wt("b")) {
			hits++
		}
	}
	if hits == 0 {
		t.Errorf("%s's build restored nothing from the shared store: %+v", u.Username, evs)
	}
	fi, err := os.Stat(tw.grove.e.store)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode() & (fs.ModePerm | fs.ModeSetgid); m != 0o770|fs.ModeSetgid {
		t.Errorf("shared store mode %v, want setgid 0770", m)
	}
	if code, out := tw.grove.groveCmd("verify"); code == 0 {
		t.Errorf("a group store opened as a private one was not refused:\n%s", out)
	}
}

// Issue 7 case 19: a binary's key follows the lib records of the rlibs it
// links. A corrupt lib record made every binary linking that rlib
// uncacheable on every build, forever. Now the closure walk drops it
// (store.DropObject, counted in grove stats), restoring the rlib writes it
// back, and the binary is cached again: at once when the record was lost,
// one build later when it was corrupt.
func TestTrustLibRecordHeals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		content  string // "" removes the records
		healedIn string // the first worktree whose build is all hits
	}{
		{"lost", "", "b"},
		{"corrupt", `{"externs":[`, "c"},
		{"empty", `{}`, "c"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, app("1"))
			tw.step("a: cargo build", func(s *side) string { return s.cargo("a", "build") })
			filepath.WalkDir(filepath.Join(tw.grove.e.store, "objects", "lib"), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if c.content == "" {
						os.Remove(p)
					} else {
						os.WriteFile(p, []byte(c.content), 0o644)
					}
				}
				return nil
			})
			tw.both(func(s *side) { s.addWorktree("c") })
			healed := false
			for _, wt := range []string{"b", "c"} {
				before := len(mustEvents(t, tw.grove.e))
				tw.step(wt+": cargo build", func(s *side) string { return s.cargo(wt, "build") })
				tw.step(wt+": run", func(s *side) string { return s.run(wt, "target/debug/app") })
				healed = healed || wt == c.healedIn
				for _, ev := range mustEvents(t, tw.grove.e)[before:] {
					if healed && ev.Kind != "hit" {
						t.Errorf("%s: %s %s: %s", wt, ev.Crate, ev.Kind, ev.Reason)
					}
				}
			}
			if c.content != "" {
				_, out := tw.grove.groveCmd("stats", "--json")
				if !strings.Contains(out, `"lib": 1`) {
					t.Errorf("grove stats does not count the dropped lib record:\n%s", out)
				}
			}
		})
	}
}
