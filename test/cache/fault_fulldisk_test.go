package cache_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// TestStoreFillsMidBuild: the store's file system fills while a build
// stores its units (some fit, the next does not). The build is plain
// cargo's, the store stays sound (grove verify finds nothing), and once
// space is freed the units are stored and later builds hit them, byte for
// byte what a compile gives (GROVE_VERIFY).
func TestStoreFillsMidBuild(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		testneed.Missing(t, "root", "mounting a small file system needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", mnt).CombinedOutput(); err != nil {
		testneed.Missing(t, "mount", fmt.Sprintf("cannot mount a tmpfs: %v %s", err, out))
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	// The example's units take about 13 MiB in the store: leave 3.
	fill := filepath.Join(mnt, "fill")
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+fill, "bs=1M", "count=17").CombinedOutput(); err != nil {
		t.Fatalf("fill: %v %s", err, out)
	}
	e := &env{t: t, store: filepath.Join(mnt, "store")}
	repo := newRepo(t, fixture())
	check := func(when string) {
		t.Helper()
		if got := run(t, filepath.Join(repo, "target/debug/app")); !strings.HasPrefix(got, "names=AB data=data-1 ") {
			t.Errorf("%s: binary prints %q", when, got)
		}
		cmd := exec.Command(groveBin, "verify")
		cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: grove verify: %v\n%s", when, err, out)
		}
		checkStore(t, e.store)
	}
	b := e.cargo(repo, true, "build")
	full := 0
	for _, ev := range b.events {
		if strings.Contains(ev.Reason, "no space left") {
			full++
		}
	}
	if full == 0 {
		t.Errorf("the store never filled: %+v", b.events)
	}
	check("full")
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"freed", "hits"} {
		os.RemoveAll(filepath.Join(repo, "target"))
		e.extra = []string{"GROVE_VERIFY=1"}
		b = e.cargo(repo, true, "build")
		check(when)
	}
	if n := b.count("hit"); n != 5 {
		t.Errorf("after space was freed: %d hits, want 5: %+v", n, b.events)
	}
}
