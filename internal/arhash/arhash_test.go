package arhash

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// buildLib compiles src with gcc -g in dir (so the object embeds dir) and
// archives it, like the cc crate does.
func buildLib(t *testing.T, dir, src string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "f.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("cc", "-g", "-O2", "-c", c, "-o", filepath.Join(dir, "f.o"))
	run("ar", "crsD", filepath.Join(dir, "libf.a"), filepath.Join(dir, "f.o"))
	return filepath.Join(dir, "libf.a")
}

func TestDigestIgnoresBuildDirButNotCode(t *testing.T) {
	if _, err := exec.LookPath("cc"); err != nil {
		testneed.Missing(t, "cc", err)
	}
	tmp := t.TempDir()
	const code = "int f(int x) { return x * 3; }\n"
	a := buildLib(t, filepath.Join(tmp, "worktree-a", "out"), code)
	b := buildLib(t, filepath.Join(tmp, "a-much-longer-worktree-name", "out"), code)
	c := buildLib(t, filepath.Join(tmp, "worktree-c", "out"), "int f(int x) { return x * 4; }\n")

	ra, _ := os.ReadFile(a)
	rb, _ := os.ReadFile(b)
	if string(ra) == string(rb) {
		t.Fatal("test premise: the two archives should differ byte-wise (embedded build dir)")
	}
	da, err := Digest(a)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := Digest(b)
	dc, _ := Digest(c)
	if da != db {
		t.Errorf("same code built in two dirs: digests differ")
	}
	if da == dc {
		t.Errorf("different code: same digest")
	}
}

func TestNotAnArchive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.a")
	os.WriteFile(p, []byte("plain bytes"), 0o644)
	d1, err := Digest(p)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte("plain byteZ"), 0o644)
	d2, _ := Digest(p)
	if d1 == d2 {
		t.Error("non-archive content change not detected")
	}
}

// BenchmarkDigestLargeArchive: a 5 MiB archive of ~1700 objects, the size
// of a bundled C library (libsqlite3, ring).
func BenchmarkDigestLargeArchive(b *testing.B) {
	const libc = "/usr/lib/x86_64-linux-gnu/libc.a"
	if _, err := os.Stat(libc); err != nil {
		b.Skip("no libc.a")
	}
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for i := 0; i < b.N; i++ {
		if _, err := Digest(libc); err != nil {
			b.Fatal(err)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}
