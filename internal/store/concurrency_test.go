package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	raceIters    = 25
	raceBlobSize = 256 << 10
	raceKey      = "00112233aabbccdd"
)

// raceObject returns a self-checking object: a payload followed by its digest,
// so that a reader can tell one complete version from a mix of two.
func raceObject(id, iter int) []byte {
	payload := content(uint64(id)<<32|uint64(iter), 64<<10)
	return append(payload, digestOf(payload)...)
}

func checkRaceObject(b []byte) error {
	if len(b) < 64 {
		return fmt.Errorf("object of %d bytes", len(b))
	}
	payload, sum := b[:len(b)-64], string(b[len(b)-64:])
	if digestOf(payload) != sum {
		return errors.New("object is not one complete version")
	}
	return nil
}

// raceWorker makes every worker (goroutine or process) store the same blobs
// and the same keys at the same moments, then checks what it reads back.
func raceWorker(s *Store, scratch string, id int, start time.Time) error {
	time.Sleep(time.Until(start))
	for j := range raceIters {
		data := content(uint64(j), raceBlobSize)
		src := filepath.Join(scratch, fmt.Sprintf("src-%d-%d", id, j))
		if err := os.WriteFile(src, data, 0o644); err != nil {
			return err
		}
		d := digestOf(data)
		if err := s.PutBlob(src, d, (id+j)%2 == 0); err != nil {
			return err
		}
		if got, err := hashFile(s.BlobPath(d)); err != nil || got != d {
			return fmt.Errorf("worker %d iter %d: blob reads back as %s, %v", id, j, got, err)
		}
		if fi, err := s.BlobStat(d); err != nil || fi.Mode().Perm() != 0o644 {
			return fmt.Errorf("worker %d: blob mode %v, %v", id, fi.Mode(), err)
		}
		dst := filepath.Join(scratch, fmt.Sprintf("dst-%d", id))
		if _, err := s.Materialize(d, dst, j%2 == 0); err != nil {
			return err
		}
		if got, err := hashFile(dst); err != nil || got != d {
			return fmt.Errorf("worker %d iter %d: materialized %s, %v", id, j, got, err)
		}

		// One mutable key written by everyone: last rename wins, whole.
		if err := s.PutObject("race", raceKey, raceObject(id, j)); err != nil {
			return err
		}
		got, err := s.GetObject("race", raceKey)
		if err != nil {
			return err
		}
		if err := checkRaceObject(got); err != nil {
			return fmt.Errorf("worker %d iter %d: %w", id, j, err)
		}
		// One content-addressed key per iteration, identical from everyone.
		if err := s.PutObject("race-ca", d, data[:4096]); err != nil {
			return err
		}
		if got, err := s.GetObject("race-ca", d); err != nil || !bytes.Equal(got, data[:4096]) {
			return fmt.Errorf("worker %d iter %d: content-addressed object wrong: %v", id, j, err)
		}
	}
	return nil
}

func raceChild() error {
	s, err := Open(os.Getenv("GROVE_STORE_DIR"))
	if err != nil {
		return err
	}
	id, _ := strconv.Atoi(os.Getenv("GROVE_STORE_ID"))
	ns, _ := strconv.ParseInt(os.Getenv("GROVE_STORE_START"), 10, 64)
	return raceWorker(s, os.Getenv("GROVE_STORE_SCRATCH"), id, time.Unix(0, ns))
}

// 8 goroutines and 2 processes put the same blobs and objects at once: no
// errors, every read sees complete, correct content, nothing left in tmp/.
func TestConcurrentPutSameKeys(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	start := time.Now().Add(500 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for id := range 2 {
		cmd := child("race",
			"GROVE_STORE_DIR="+s.Dir(),
			"GROVE_STORE_SCRATCH="+t.TempDir(),
			"GROVE_STORE_ID="+strconv.Itoa(100+id),
			"GROVE_STORE_START="+strconv.FormatInt(start.UnixNano(), 10))
		startChild(t, cmd)
		wg.Go(func() {
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("process %d: %w", id, err)
			}
		})
	}
	for id := range 8 {
		scratch := t.TempDir()
		wg.Go(func() {
			if err := raceWorker(s, scratch, id, start); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	blobs, objects := checkStoreIntegrity(t, s)
	if blobs != raceIters {
		t.Fatalf("%d blobs, want %d", blobs, raceIters)
	}
	_ = objects
	got, err := s.GetObject("race", raceKey)
	if err != nil || checkRaceObject(got) != nil {
		t.Fatalf("final object: %v", err)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Fatalf("tmp/ not empty: %v", names)
	}
}

// --- LockKey ---

const lockKey = "abcdef0123456789"

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockLoop enters the critical section of lockKey iters times. Inside, it
// claims an owner file with O_EXCL (failing if anyone else is inside) and
// logs begin/end lines that must never interleave.
func lockLoop(s *Store, dir, id string, iters int) error {
	owner := filepath.Join(dir, "owner")
	log := filepath.Join(dir, "log")
	for range iters {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		unlock, err := s.LockKey(ctx, lockKey)
		cancel()
		if err != nil {
			return err
		}
		f, err := os.OpenFile(owner, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			unlock()
			return fmt.Errorf("%s inside the critical section with someone else: %w", id, err)
		}
		f.Close()
		err = appendLine(log, "B "+id)
		time.Sleep(200 * time.Microsecond)
		if err == nil {
			err = appendLine(log, "E "+id)
		}
		if rerr := os.Remove(owner); err == nil {
			err = rerr
		}
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

func lockLoopChild() error {
	s, err := Open(os.Getenv("GROVE_STORE_DIR"))
	if err != nil {
		return err
	}
	iters, _ := strconv.Atoi(os.Getenv("GROVE_STORE_ITERS"))
	return lockLoop(s, os.Getenv("GROVE_STORE_SCRATCH"), os.Getenv("GROVE_STORE_ID"), iters)
}

// N processes and goroutines contend for one key: exactly one is inside the
// critical section at any time.
func TestLockKeyMutualExclusion(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	scratch := t.TempDir()
	const procs, goroutines, iters = 4, 2, 30
	var wg sync.WaitGroup
	errs := make(chan error, procs+goroutines)
	for i := range procs {
		cmd := child("lockloop",
			"GROVE_STORE_DIR="+s.Dir(),
			"GROVE_STORE_SCRATCH="+scratch,
			"GROVE_STORE_ID=p"+strconv.Itoa(i),
			"GROVE_STORE_ITERS="+strconv.Itoa(iters))
		startChild(t, cmd)
		wg.Go(func() {
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("process p%d: %w", i, err)
			}
		})
	}
	for i := range goroutines {
		wg.Go(func() {
			if err := lockLoop(s, scratch, "g"+strconv.Itoa(i), iters); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	data, err := os.ReadFile(filepath.Join(scratch, "log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if want := 2 * iters * (procs + goroutines); len(lines) != want {
		t.Fatalf("%d log lines, want %d", len(lines), want)
	}
	for i := 0; i < len(lines); i += 2 {
		b, e := lines[i], lines[i+1]
		if !strings.HasPrefix(b, "B ") || e != "E "+b[2:] {
			t.Fatalf("critical sections interleaved at line %d: %q then %q", i, b, e)
		}
	}
}

// singleFlight is what the wrapper does on a miss: lock the key, look again,
// compile only if still missing, store, unlock.
func singleFlight(s *Store, dir, id string, start time.Time) error {
	time.Sleep(time.Until(start))
	if _, err := s.GetObject("entries", lockKey); err == nil {
		return appendLine(filepath.Join(dir, "hits"), id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := s.LockKey(ctx, lockKey)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.GetObject("entries", lockKey); err == nil {
		return appendLine(filepath.Join(dir, "hits"), id)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := appendLine(filepath.Join(dir, "compiles"), id); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // "rustc"
	return s.PutObject("entries", lockKey, []byte(`{"compiled_by":"`+id+`"}`))
}

func singleFlightChild() error {
	s, err := Open(os.Getenv("GROVE_STORE_DIR"))
	if err != nil {
		return err
	}
	ns, _ := strconv.ParseInt(os.Getenv("GROVE_STORE_START"), 10, 64)
	return singleFlight(s, os.Getenv("GROVE_STORE_SCRATCH"), os.Getenv("GROVE_STORE_ID"), time.Unix(0, ns))
}

// N builds miss the same key at once: one compiles, all others hit.
func TestLockKeySingleFlight(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	scratch := t.TempDir()
	start := time.Now().Add(500 * time.Millisecond)
	const procs, goroutines = 4, 4
	var wg sync.WaitGroup
	errs := make(chan error, procs+goroutines)
	for i := range procs {
		cmd := child("singleflight",
			"GROVE_STORE_DIR="+s.Dir(),
			"GROVE_STORE_SCRATCH="+scratch,
			"GROVE_STORE_ID=p"+strconv.Itoa(i),
			"GROVE_STORE_START="+strconv.FormatInt(start.UnixNano(), 10))
		startChild(t, cmd)
		wg.Go(func() {
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("process p%d: %w", i, err)
			}
		})
	}
	for i := range goroutines {
		wg.Go(func() {
			if err := singleFlight(s, scratch, "g"+strconv.Itoa(i), start); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	compiles, _ := os.ReadFile(filepath.Join(scratch, "compiles"))
	hits, _ := os.ReadFile(filepath.Join(scratch, "hits"))
	nc := strings.Count(string(compiles), "\n")
	nh := strings.Count(string(hits), "\n")
	if nc != 1 || nh != procs+goroutines-1 {
		t.Fatalf("%d compiles (%q) and %d hits; want 1 and %d", nc, compiles, nh, procs+goroutines-1)
	}
}

func TestLockKeyContextTimeoutAndRelease(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	unlock, err := s.LockKey(t.Context(), lockKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := s.LockKey(ctx, lockKey); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockKey on a held key = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	// Other keys are independent.
	u2, err := s.LockKey(t.Context(), "1111111111111111")
	if err != nil {
		t.Fatal(err)
	}
	u2()

	// A waiter is woken as soon as the holder releases. The waiter that
	// timed out above must not keep the lock once it gets it late.
	got := make(chan time.Time, 1)
	go func() {
		u, err := s.LockKey(t.Context(), lockKey)
		if err != nil {
			t.Error(err)
			got <- time.Time{}
			return
		}
		got <- time.Now()
		u()
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	unlock()
	unlock() // idempotent
	select {
	case at := <-got:
		if lag := at.Sub(released); lag > 500*time.Millisecond {
			t.Fatalf("waiter woke %v after release", lag)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter never got the lock after release")
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	u3, err := s.LockKey(ctx2, lockKey)
	if err != nil {
		t.Fatalf("lock not free after all holders released: %v", err)
	}
	u3()
}

func holdChild() error {
	s, err := Open(os.Getenv("GROVE_STORE_DIR"))
	if err != nil {
		return err
	}
	if _, err := s.LockKey(context.Background(), lockKey); err != nil {
		return err
	}
	if err := os.WriteFile(os.Getenv("GROVE_STORE_READY"), nil, 0o644); err != nil {
		return err
	}
	time.Sleep(time.Minute)
	return errors.New("not killed")
}

// A build killed while holding a key's lock does not wedge the others.
func TestLockKeyReleasedWhenHolderKilled(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := child("hold", "GROVE_STORE_DIR="+s.Dir(), "GROVE_STORE_READY="+ready)
	startChild(t, cmd)
	waitForFile(t, ready, cmd)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.LockKey(ctx, lockKey); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock held by child, LockKey = %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	ctx2, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	unlock, err := s.LockKey(ctx2, lockKey)
	if err != nil {
		t.Fatalf("lock not released by the killed holder: %v", err)
	}
	unlock()
}

// Clean removes lock files nobody holds and keeps held ones; a key whose lock
// file was removed can be locked again, and a held lock stays exclusive.
func TestCleanLocks(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	held, err := s.LockKey(t.Context(), lockKey)
	if err != nil {
		t.Fatal(err)
	}
	const free = "2222222222222222"
	u, err := s.LockKey(t.Context(), free)
	if err != nil {
		t.Fatal(err)
	}
	u()
	if _, err := s.Clean(0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.lockPath(free)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("unheld lock file kept")
	}
	if _, err := os.Stat(s.lockPath(lockKey)); err != nil {
		t.Fatal("held lock file removed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.LockKey(ctx, lockKey); err == nil {
		t.Fatal("held lock acquired twice after Clean")
	}
	held()
	u, err = s.LockKey(t.Context(), free)
	if err != nil {
		t.Fatal(err)
	}
	u()
}
