package cache_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"encoding/hex"
	"github.com/zeebo/blake3"

	"github.com/grove-rs/grove/internal/testneed"
)

// checkStore asserts that every blob in the store hashes to its name: the
// store was never changed through a link, and no partial blob exists.
func checkStore(t *testing.T, store string) int {
	t.Helper()
	n := 0
	filepath.Walk(filepath.Join(store, "blobs"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read blob %s: %v", p, err)
			return nil
		}
		sum := blake3.Sum256(b)
		if hex.EncodeToString(sum[:]) != filepath.Base(p) {
			t.Errorf("blob %s does not hash to its name", p)
		}
		n++
		return nil
	})
	return n
}

// Rebuilding restored (hardlinked) units never changes a stored blob: rustc
// replaces outputs, and grove unlinks them before a miss compiles.
func TestRebuildNeverChangesBlobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	e.cargo(repo, true, "build")
	os.RemoveAll(filepath.Join(repo, "target"))
	e.cargo(repo, true, "build") // restored by hardlink
	for i, v := range []string{"P", "Q", "R"} {
		edit(t, filepath.Join(repo, "alpha/src/a.rs"), "pub const NAME: &str = \""+v+"\";\n")
		e.cargo(repo, true, "build")
		if n := checkStore(t, e.store); n == 0 {
			t.Fatalf("round %d: empty store", i)
		}
	}
}

// A tool that writes into a restored file in place (root ignores the
// read-only mode) changes the shared inode; grove notices before serving
// that blob again, drops it, and compiles instead of serving it.
func TestBlobWrittenInPlaceIsNotServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	e.cargo(repo, true, "build")
	want := run(t, filepath.Join(repo, "target/debug/app"))
	os.RemoveAll(filepath.Join(repo, "target"))
	e.cargo(repo, true, "build")
	// A library restored by hardlink: restore's mtime rule writes some
	// outputs as private copies (internal/restore), which a write in
	// place cannot reach; the test needs one that is a blob's inode
	// (Cargo's uplift hardlinks too, so a link count says nothing).
	blobInodes := map[uint64]bool{}
	filepath.Walk(e.store, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			blobInodes[fi.Sys().(*syscall.Stat_t).Ino] = true
		}
		return nil
	})
	libs, _ := filepath.Glob(filepath.Join(repo, "target/debug/deps/lib*.r*"))
	shared, crate := "", ""
	for _, l := range libs {
		var st syscall.Stat_t
		if syscall.Stat(l, &st) == nil && blobInodes[st.Ino] {
			shared = l
			crate, _, _ = strings.Cut(strings.TrimPrefix(filepath.Base(l), "lib"), "-")
			break
		}
	}
	if shared == "" {
		t.Fatalf("no restored rlib shares its blob: %v", libs)
	}
	f, err := os.OpenFile(shared, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		testneed.Missing(t, "root", fmt.Sprintf("cannot write in place: %v", err))
	}
	f.Write([]byte("garbage"))
	f.Close()

	other := filepath.Join(t.TempDir(), "other")
	e.extra = []string{"CARGO_TARGET_DIR=" + other}
	b := e.cargo(repo, true, "build")
	found := false
	for _, c := range b.crates("miss") {
		found = found || c == crate
	}
	if !found {
		t.Errorf("changed blob of %s was served: misses %v", crate, b.crates("miss"))
		for _, ev := range b.events {
			t.Logf("event %s %s %s", ev.Kind, ev.Crate, ev.Reason)
		}
	}
	if got := run(t, filepath.Join(other, "debug/app")); got != want {
		t.Errorf("binary prints %q, want %q", got, want)
	}
	checkStore(t, e.store)
}

// Builds killed with SIGKILL at random points leave no entry that is served
// later: the next builds are correct and every blob is intact.
func TestKilledBuildsLeaveNoPartialEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	for i, delay := range []time.Duration{300, 700, 1100, 1600, 2200} {
		os.RemoveAll(filepath.Join(repo, "target"))
		edit(t, filepath.Join(repo, "alpha/src/a.rs"), "pub const NAME: &str = \"K"+string(rune('0'+i))+"\";\n")
		cmd := exec.Command("cargo", "build")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store, "RUSTC_WRAPPER="+groveBin)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay * time.Millisecond)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	checkStore(t, e.store)
	git(t, repo, "checkout", "-q", "--", ".")
	for round := 0; round < 2; round++ {
		os.RemoveAll(filepath.Join(repo, "target"))
		e.cargo(repo, true, "build")
		if got := run(t, filepath.Join(repo, "target/debug/app")); !strings.Contains(got, "names=AB") {
			t.Errorf("round %d after kills: binary prints %q", round, got)
		}
	}
	checkStore(t, e.store)
}

// Whatever goes wrong with the store, the build succeeds as plain cargo's.
func TestBrokenStoreNeverBreaksTheBuild(t *testing.T) {
	t.Parallel()
	notADir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notADir, []byte("x"), 0o644)
	cases := map[string]string{"store is a file": notADir}
	if os.Geteuid() == 0 {
		full := filepath.Join(t.TempDir(), "full")
		os.MkdirAll(full, 0o755)
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", full).Run(); err == nil {
			t.Cleanup(func() { exec.Command("umount", full).Run() })
			cases["full disk"] = full
		}
	}
	for name, dir := range cases {
		repo := newRepo(t, fixture())
		e := &env{t: t, store: dir}
		e.cargo(repo, true, "build")
		if got := run(t, filepath.Join(repo, "target/debug/app")); !strings.Contains(got, "names=AB") {
			t.Errorf("%s: binary prints %q", name, got)
		}
	}
	// GROVE_DISABLE passes everything through and records nothing.
	e := newEnv(t)
	e.extra = []string{"GROVE_DISABLE=1"}
	repo := newRepo(t, fixture())
	if b := e.cargo(repo, true, "build"); len(b.events) != 0 {
		t.Errorf("GROVE_DISABLE: %d events", len(b.events))
	}
}

// GROVE_VERIFY compiles every hit again and compares: the cache's outputs
// are byte-identical to a fresh compile.
func TestVerifyModeFindsNoDifference(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	e.cargo(repo, true, "build")
	os.RemoveAll(filepath.Join(repo, "target"))
	e.extra = []string{"GROVE_VERIFY=1"}
	b := e.cargo(repo, true, "build")
	for _, ev := range b.events {
		if ev.Kind == "hit" && ev.Reason != "verify: identical" {
			t.Errorf("%s: %s", ev.Crate, ev.Reason)
		}
	}
}
