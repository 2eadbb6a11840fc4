package cache_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/testneed"
	"golang.org/x/sys/unix"
)

// storeUse is the disk use of a store's blobs and objects (the stats log,
// bounded on its own, aside), and how many files they are.
func storeUse(t *testing.T, store string) (bytes int64, files int, storeOnly int64) {
	t.Helper()
	for _, sub := range []string{"blobs", "objects"} {
		filepath.WalkDir(filepath.Join(store, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			st := fi.Sys().(*syscall.Stat_t)
			bytes += st.Blocks * 512
			files++
			if st.Nlink == 1 {
				storeOnly += st.Blocks * 512
			}
			return nil
		})
	}
	return bytes, files, storeOnly
}

// Issue 8: a store left running stays bounded. 200 edit-and-build rounds
// of a one-file crate, each a real compile stored through the real wrapper
// binary (invoked as Cargo invokes it: 200 cargo runs take minutes on a
// loaded machine, the compile and store are the same), each followed by the
// trim a build starts by itself (run here in the foreground, with the cap
// from GROVE_MAX_SIZE). What only the store holds stays under the cap (the
// last build's outputs are also the target dir's files), and the number of
// blobs and objects does not grow with the rounds. `grove clean --max-size 1`
// then leaves only what the target dir still links.
func TestTrimKeepsStoreBounded(t *testing.T) {
	sysroot, err := exec.Command("rustc", "--print", "sysroot").Output()
	if err != nil {
		testneed.Missing(t, "rustc", err)
	}
	// The toolchain's rustc, as Cargo names it to the wrapper (not a
	// rustup proxy).
	rustc := filepath.Join(strings.TrimSpace(string(sysroot)), "bin", "rustc")
	const capBytes = 128 << 10
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	out := filepath.Join(dir, "target", "debug", "deps")
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(dir, "target", "CACHEDIR.TAG"), []byte("Signature: 8a477f597d28d172789f06886806bc55\n"), 0o644) // as Cargo marks its target dir
	env := append(cleanEnv(), "GROVE_DIR="+store, fmt.Sprintf("GROVE_MAX_SIZE=%d", capBytes), "GROVE_AUTO_TRIM=1", "CARGO_PKG_NAME=tiny", "CARGO_CRATE_NAME=tiny", "CARGO_MANIFEST_DIR="+dir)
	compile := func(i int) {
		t.Helper()
		src := fmt.Sprintf("pub fn f() -> u32 { %d }\npub const S: &str = %q;\n", i, strings.Repeat("x", 2000+i))
		if err := os.WriteFile(filepath.Join(dir, "src", "lib.rs"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		// Written a moment before the compile, as an editor's save is
		// before Cargo starts: a source changed (ctime) in the clock tick
		// the compile starts in is not trusted and the unit is then
		// uncacheable, by design (key/inputs.go), and the wrapper, invoked
		// directly here, now starts within that tick.
		time.Sleep(30 * time.Millisecond)
		cmd := exec.Command(groveBin, rustc, "--crate-name", "tiny", "--edition=2021", "src/lib.rs",
			"--error-format=json", "--json=diagnostic-rendered-ansi,artifacts,future-incompat",
			"--crate-type", "lib", "--emit=dep-info,metadata,link", "-C", "embed-bitcode=no",
			"-C", "metadata=0123abcd", "-C", "extra-filename=-0123abcd", "--out-dir", out, "-L", "dependency="+out)
		cmd.Dir, cmd.Env = dir, env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("round %d: %v\n%s", i, err, b)
		}
	}
	clean := func(args ...string) (res struct {
		EntriesRemoved int   `json:"entries_removed"`
		BytesKept      int64 `json:"bytes_kept"`
		InTrees        int64 `json:"bytes_in_use"`
	}) {
		t.Helper()
		cmd := exec.Command(groveBin, append([]string{"clean", "--json"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("grove clean %v: %v", args, err)
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}

	maxFiles := 0
	for i := 0; i < rounds; i++ {
		compile(i)
		if i == 0 {
			// The first store claimed the hour's automatic trim and
			// started it in the background; wait for it (it holds the
			// stamp's flock while it runs).
			stamp := filepath.Join(store, "trim.stamp")
			if _, err := os.Stat(stamp); err != nil {
				evs, _ := stats.Read(store)
				t.Fatalf("no automatic trim claimed after a miss: %v (events %+v)", err, evs)
			}
			waitFlock(t, stamp)
		}
		res := clean()
		bytes, files, storeOnly := storeUse(t, store)
		// The cap bounds what only the store holds; the outputs of the
		// last build are the target dir's files too (hardlinks).
		if storeOnly > capBytes || bytes > capBytes+res.InTrees {
			b, _ := exec.Command("find", store, "-type", "f", "-printf", "%n %s %p\n").Output()
			t.Fatalf("round %d: store holds %d bytes, over the cap of %d: %+v\n%s", i, bytes, capBytes, res, b)
		}
		if i == 20 {
			maxFiles = files
		}
		if i > 20 && files > maxFiles+10 {
			t.Fatalf("round %d: %d files in the store, %d at round 20: growing", i, files, maxFiles)
		}
	}
	bytes, files, _ := storeUse(t, store)
	t.Logf("after %d rounds: store %d bytes in %d files (cap %d)", rounds, bytes, files, capBytes)

	res := clean("--max-size", "1")
	_, files, storeOnly := storeUse(t, store)
	if storeOnly > 0 && res.BytesKept > 16<<10 {
		t.Errorf("after clean --max-size 1: %d store-only bytes left (%+v)", storeOnly, res)
	}
	filepath.WalkDir(filepath.Join(store, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil && fi.Sys().(*syscall.Stat_t).Nlink == 1 {
				t.Errorf("blob %s kept though no target dir links it", d.Name())
			}
		}
		return nil
	})
	if res.InTrees == 0 {
		t.Errorf("nothing counted as linked by the target dir: %+v", res)
	}
	t.Logf("after clean --max-size 1: %d files, %d bytes still linked by the target dir", files, res.InTrees)
	// The entry the target dir holds still serves: a rebuild is a hit.
	compile(rounds - 1)
	if evs, _ := stats.Read(store); len(evs) == 0 || evs[len(evs)-1].Kind != stats.Hit {
		t.Errorf("rebuild after clean --max-size 1 is not a hit: %+v", evs[len(evs)-1:])
	}
}

// waitFlock waits (up to a minute) until nobody holds path's flock.
func waitFlock(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(time.Minute)
	time.Sleep(200 * time.Millisecond) // let the child start
	for unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			t.Fatal("automatic trim still running after a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	unix.Flock(fd, unix.LOCK_UN)
}
