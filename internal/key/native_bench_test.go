package key

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/store"
)

// BenchmarkKeyNative is what keyNative costs per lookup of one unit: every
// unit above a -sys crate keys the native files of its closure on every
// build, hit or miss.
//
//	none     no native search dir
//	example  the example's build-script output: one small archive and its object (-g)
//	many     60 small objects (libc.a's first members) and their archive, like ring's OUT_DIR
//	big      plus a 5 MiB archive (libc.a) and its copy as a shared name
//
// each without a memo (files changed in the last 2 s, or no store) and with
// the store's memo (files older than that).
func BenchmarkKeyNative(b *testing.B) {
	root := b.TempDir()
	nt := nativeTree{root: root, cwd: filepath.Join(root, "wt")}
	nt.target = filepath.Join(nt.cwd, "target")
	small := filepath.Join(nt.target, "debug/build/alpha-1/out")
	big := filepath.Join(nt.target, "debug/build/big-1/out")
	for _, d := range []string{small, big} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := exec.LookPath("cc"); err != nil {
		b.Skip("no C compiler")
	}
	src := filepath.Join(root, "f.c")
	os.WriteFile(src, []byte("#include <stdio.h>\nint f(int x) { return x * 3; }\nvoid g(void) { printf(\"%d\\n\", f(2)); }\n"), 0o644)
	for _, c := range [][]string{
		{"cc", "-g", "-O2", "-c", src, "-o", filepath.Join(small, "f.o")},
		{"ar", "crsD", filepath.Join(small, "libgrovef.a"), filepath.Join(small, "f.o")},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	libc := "/usr/lib/x86_64-linux-gnu/libc.a"
	if _, err := os.Stat(libc); err != nil {
		b.Skip("no libc.a")
	}
	copyFile(b, libc, filepath.Join(big, "libbig.a"))
	// many: 60 small objects and their archive, like ring's OUT_DIR.
	many := filepath.Join(nt.target, "debug/build/many-1/out")
	if err := os.MkdirAll(many, 0o755); err != nil {
		b.Fatal(err)
	}
	members, err := exec.Command("ar", "t", libc).Output()
	if err != nil {
		b.Fatal(err)
	}
	names := strings.Fields(string(members))[:60]
	if out, err := exec.Command("ar", append([]string{"x", libc}, names...)...).CombinedOutput(); err != nil {
		b.Fatalf("ar x: %v\n%s", err, out)
	}
	for _, n := range names {
		if err := os.Rename(n, filepath.Join(many, n)); err != nil {
			b.Fatal(err)
		}
	}
	if out, err := exec.Command("ar", append([]string{"crs", filepath.Join(many, "libmany.a")}, prefixAll(many, names)...)...).CombinedOutput(); err != nil {
		b.Fatalf("ar crs: %v\n%s", err, out)
	}
	copyFile(b, filepath.Join(small, "f.o"), filepath.Join(big, "f.o"))
	old := time.Now().Add(-time.Minute)
	for _, d := range []string{small, big, many} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			os.Chtimes(filepath.Join(d, e.Name()), old, old)
		}
	}
	// The memo takes only files unchanged (ctime included) for 2 s.
	time.Sleep(filehash.RacyWindow + 100*time.Millisecond)
	st, err := store.Open(filepath.Join(root, "store"))
	if err != nil {
		b.Fatal(err)
	}
	invs := map[string]*rustc.Invocation{
		"none":    {},
		"example": {SearchPaths: []rustc.SearchPath{{Kind: "native", Path: small}}, Libs: []rustc.Lib{{Kind: "static", Name: "grovef"}}},
		"many":    {SearchPaths: []rustc.SearchPath{{Kind: "native", Path: many}}, Libs: []rustc.Lib{{Kind: "static", Name: "many"}}},
		"big": {SearchPaths: []rustc.SearchPath{{Kind: "native", Path: small}, {Kind: "native", Path: big}},
			Libs: []rustc.Lib{{Kind: "static", Name: "grovef"}, {Kind: "static", Name: "big"}}},
	}
	for _, name := range []string{"none", "example", "many", "big"} {
		for _, memo := range []bool{false, true} {
			label := name + "/nomemo"
			h := &filehash.Hasher{}
			if memo {
				label = name + "/memo"
				h.Memo = st
			}
			run := func(b *testing.B) {
				u := &Unit{
					Inv: invs[name], Cwd: nt.cwd, TargetRoot: nt.target,
					Norm:   NewNormalizer(map[string]string{Cwd: nt.cwd, Target: nt.target}),
					Hasher: h,
				}
				if err := u.keyNative(); err != nil {
					b.Fatal(err)
				}
			}
			b.Run(label, func(b *testing.B) {
				run(b) // the memo is written by the first lookup
				b.ResetTimer()
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					run(b)
				}
				// Wall time on a shared machine says little; CPU time is
				// what a lookup costs.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func prefixAll(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	return out
}
