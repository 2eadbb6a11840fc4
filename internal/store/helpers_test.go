package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/zeebo/blake3"
)

// childEnv selects a child-process role: the test binary re-executes itself
// with this variable set, and TestMain runs the role instead of the tests.
const childEnv = "GROVE_STORE_TEST_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		if err := runChild(role); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild dispatches a child role; each role lives beside its test.
func runChild(role string) error {
	switch role {
	case "crash":
		return crashChild()
	case "race":
		return raceChild()
	case "lockloop":
		return lockLoopChild()
	case "singleflight":
		return singleFlightChild()
	case "hold":
		return holdChild()
	}
	return fmt.Errorf("unknown role %q", role)
}

// child returns a command running the test binary in role with extra env.
func child(role string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + role}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// startChild starts cmd and makes sure it does not outlive the test, even
// when the test fails early (a child holding a lock or the test's stderr
// would otherwise keep `go test` waiting).
func startChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // an error if it already exited
}

// content returns n deterministic pseudo-random bytes for seed.
func content(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

func digestOf(b []byte) string {
	sum := blake3.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeFile writes data to path with perm and returns its digest.
func writeFile(t testing.TB, path string, data []byte, perm os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // defeat the umask
		t.Fatal(err)
	}
	return digestOf(data)
}

func statT(t testing.TB, path string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func sameInode(t testing.TB, a, b string) bool {
	t.Helper()
	x, y := statT(t, a), statT(t, b)
	return x.Dev == y.Dev && x.Ino == y.Ino
}

func mustOpen(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func assertFileContent(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: content differs (got %d bytes, want %d)", path, len(got), len(want))
	}
}

func assertMode(t testing.TB, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s: mode %v, want %v", path, got, want)
	}
}

// checkStoreIntegrity asserts invariant 1 and 2: every blob hashes to its
// name, and every object in a content-addressed namespace hashes to its key.
func checkStoreIntegrity(t testing.TB, s *Store, caNamespaces ...string) (blobs, objects int) {
	t.Helper()
	check := func(root string, count *int) {
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			*count++
			sum, err := hashFile(path)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				return nil
			}
			if sum != d.Name() {
				t.Errorf("%s: content hashes to %s: partial or wrong entry at a final name", path, sum)
			}
			return nil
		})
	}
	check(filepath.Join(s.Dir(), blobsDir), &blobs)
	for _, ns := range caNamespaces {
		check(filepath.Join(s.Dir(), objectsDir, ns), &objects)
	}
	return blobs, objects
}

func tmpEntries(t testing.TB, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), tmpDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
