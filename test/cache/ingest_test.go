package cache_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A program of 16 MiB or more is stored after the build has moved on
// (internal/wrapper/ingest.go): the wrapper holds its inode and a
// background process copies it into the store and only then publishes the
// entry, holding the unit's flight lock. A second worktree built right
// after the first is served the program (it waits on the lock, not
// compiling it again), the program prints what plain cargo's prints, and
// the store keeps the first tree's program bytes, not a later change.
func TestBigProgramStoredInTheBackground(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("grove-ingest-"), (17<<20)/13)
	e := newEnv(t)
	log := filepath.Join(t.TempDir(), "grove.log")
	e.extra = append(e.extra, "GROVE_LOG="+log)
	repo := newRepo(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"big\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": "static DATA: &[u8] = include_bytes!(\"../data.bin\");\nfn main() { println!(\"{} {}\", DATA.len(), DATA.iter().map(|&b| b as u64).sum::<u64>()); }\n",
		"data.bin":    string(big),
		".gitignore":  "target/\n",
	})
	a := e.cargo(repo, true, "build")
	if !slices.Contains(a.crates("miss"), "big") {
		t.Fatalf("the program was not compiled through grove: %+v", a.events)
	}
	prog := filepath.Join(repo, "target/debug/big")
	if fi, err := os.Stat(prog); err != nil || fi.Size() < 16<<20 {
		t.Fatalf("program %v, want one of 16 MiB or more: %v", fi, err)
	}
	want := run(t, prog)

	wt := filepath.Join(t.TempDir(), "b")
	git(t, repo, "worktree", "add", "-q", "--detach", wt)
	b := e.cargo(wt, true, "build")
	if got := b.crates("hit"); !slices.Contains(got, "big") {
		t.Fatalf("second worktree: the program was not served from the store (hits %v, misses %v)", got, b.crates("miss"))
	}
	if got := run(t, filepath.Join(wt, "target/debug/big")); got != want {
		t.Errorf("served program printed %q, the compiled one %q", got, want)
	}
	plain := filepath.Join(t.TempDir(), "p")
	git(t, repo, "worktree", "add", "-q", "--detach", plain)
	e.cargo(plain, false, "build")
	if got := run(t, filepath.Join(plain, "target/debug/big")); got != want {
		t.Errorf("plain cargo's program printed %q, grove's %q", got, want)
	}
	if l, _ := os.ReadFile(log); !bytes.Contains(l, []byte("stored in the background")) {
		t.Errorf("the program was not stored in the background:\n%s", l)
	}
	// Nothing left under tmp/: the held inodes and the hand-off file.
	left, _ := filepath.Glob(filepath.Join(e.store, "tmp", "*"))
	if len(left) > 0 {
		t.Errorf("left in the store's tmp/: %v", left)
	}
}
