package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChild writes big blobs and objects into the store in a loop until it
// is killed. Every blob and every object in namespace "crash" is named by the
// blake3 of its content, so the parent can check each final name.
func crashChild() error {
	s, err := Open(os.Getenv("GROVE_STORE_DIR"))
	if err != nil {
		return err
	}
	scratch := os.Getenv("GROVE_STORE_SCRATCH")
	seed, _ := strconv.ParseUint(os.Getenv("GROVE_STORE_SEED"), 10, 64)
	big := content(seed, crashSize)
	obj := content(seed+1, crashSize)
	for i := uint64(0); ; i++ {
		binary.LittleEndian.PutUint64(big, i)
		binary.LittleEndian.PutUint64(obj, i)
		src := filepath.Join(scratch, fmt.Sprintf("src%d", i))
		if err := os.WriteFile(src, big, 0o644); err != nil {
			return err
		}
		// Mostly copies (the slow path a kill is likely to interrupt), and
		// now and then a link, whose window is between link and rename.
		if err := s.PutBlob(src, digestOf(big), i%4 == 3); err != nil {
			return err
		}
		os.Remove(src)
		if err := s.PutObject("crash", digestOf(obj), obj); err != nil {
			return err
		}
		if i == 0 {
			if err := os.WriteFile(filepath.Join(scratch, "ready"), nil, 0o644); err != nil {
				return err
			}
		}
	}
}

// crashSize is the size of every blob and object the crash child writes.
const crashSize = 16 << 20

// waitForPartialFile returns as soon as a file under dir whose path contains
// kind ("blob" or "obj": temp or final, wherever the store writes it) has
// been partly written, so that the kill that follows lands in the middle of a
// write rather than in an fsync or between writes; or after timeout.
func waitForPartialFile(dir, kind string, full int64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		found := false
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || found || !strings.Contains(path[len(dir):], kind) {
				return nil
			}
			if fi, err := d.Info(); err == nil && fi.Size() > 0 && fi.Size() < full {
				found = true
				return filepath.SkipAll
			}
			return nil
		})
		if found {
			return
		}
	}
}

func waitForFile(t *testing.T, path string, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child never created %s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A writer killed with SIGKILL at a random moment leaves only files under
// tmp/: every blob and object at a final name is complete, and Clean removes
// the leftovers.
func TestCrashLeavesNoPartialEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few hundred MB")
	}
	s := mustOpen(t, t.TempDir())
	leftoverRounds := 0
	for round := 0; round < 18 || (leftoverRounds == 0 && round < 24); round++ {
		scratch := t.TempDir()
		cmd := child("crash",
			"GROVE_STORE_DIR="+s.Dir(),
			"GROVE_STORE_SCRATCH="+scratch,
			"GROVE_STORE_SEED="+strconv.Itoa(1000*round))
		startChild(t, cmd)
		waitForFile(t, filepath.Join(scratch, "ready"), cmd)
		switch round % 3 {
		case 0:
			time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
		case 1:
			waitForPartialFile(s.Dir(), "blob", crashSize, 5*time.Second)
		case 2:
			waitForPartialFile(s.Dir(), "obj", crashSize, 5*time.Second)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
			t.Fatalf("round %d: child did not die by the signal: %v", round, err)
		}
		checkStoreIntegrity(t, s, "crash")
		if n := len(tmpEntries(t, s)); n > 0 {
			leftoverRounds++
		}
	}
	if leftoverRounds == 0 {
		t.Fatal("no kill landed mid-write; the test proved nothing")
	}
	blobs, objects := checkStoreIntegrity(t, s, "crash")
	if blobs == 0 || objects == 0 {
		t.Fatalf("no complete entries (%d blobs, %d objects)", blobs, objects)
	}
	t.Logf("%d rounds left temps; %d blobs, %d objects, %d temp files now",
		leftoverRounds, blobs, objects, len(tmpEntries(t, s)))

	// A fresh writer is not disturbed: Clean with a generous age keeps temps
	// that are younger (all of them, here).
	if _, err := s.Clean(time.Hour); err != nil {
		t.Fatal(err)
	}
	if len(tmpEntries(t, s)) == 0 {
		t.Fatal("Clean(1h) removed young temp files")
	}
	var tmpBytes int64
	for _, n := range tmpEntries(t, s) {
		tmpBytes += statT(t, filepath.Join(s.Dir(), tmpDir, n)).Blocks * 512
	}
	freed, err := s.Clean(0)
	if err != nil {
		t.Fatal(err)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Fatalf("Clean left %v", names)
	}
	if tmpBytes > 0 && freed == 0 {
		t.Fatal("Clean freed 0 bytes")
	}
	t.Logf("Clean freed %d bytes", freed)
	b2, o2 := checkStoreIntegrity(t, s, "crash")
	if b2 != blobs || o2 != objects {
		t.Fatalf("Clean touched final entries: %d/%d -> %d/%d", blobs, objects, b2, o2)
	}
}
