package cargolock

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/testneed"
)

func TestHeldBySameFlock(t *testing.T) {
	target := t.TempDir()
	for _, d := range []string{"debug", "release", "x86_64-unknown-linux-gnu/debug"} {
		os.MkdirAll(filepath.Join(target, d), 0o755)
		os.WriteFile(filepath.Join(target, d, LockName), nil, 0o644)
	}
	// The registry lock is not a build lock.
	os.WriteFile(filepath.Join(target, ".package-cache"), nil, 0o644)
	files, err := Files(target)
	if err != nil || len(files) != 3 {
		t.Fatalf("Files = %v, %v", files, err)
	}
	if held, err := Held(target); err != nil || len(held) != 0 {
		t.Fatalf("idle: %v %v", held, err)
	}

	// Hold the cross-compile profile's lock the way Cargo does, from another
	// open file description (flock is per description).
	lock := filepath.Join(target, "x86_64-unknown-linux-gnu/debug", LockName)
	fd, err := unix.Open(lock, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	held, err := Held(target)
	if err != nil || len(held) != 1 || held[0].Path != lock || held[0].PID != os.Getpid() {
		t.Fatalf("held: %+v %v (pid %d)", held, err, os.Getpid())
	}
	g, held2, err := Acquire(target)
	if err != nil || g != nil || len(held2) != 1 {
		t.Fatalf("Acquire while held: %v %v %v", g, held2, err)
	}
	unix.Close(fd)

	g, held2, err = Acquire(target)
	if err != nil || g == nil || len(held2) != 0 {
		t.Fatalf("Acquire idle: %v %v %v", g, held2, err)
	}
	if held, _ := Held(target); len(held) != 3 {
		t.Fatalf("our own guard should show as held, got %v", held)
	}
	g.Release()
	g.Release()
	if held, _ := Held(target); len(held) != 0 {
		t.Fatalf("after release: %v", held)
	}
}

// TestHeldByRealCargo runs a build whose build script sleeps and checks
// that the lock is seen while Cargo runs and gone after: with Cargo 1.95,
// which holds .cargo-lock exclusively, and with the nightly's per-unit
// layout, whose Cargo holds .cargo-build-lock and .cargo-artifact-lock
// exclusively and .cargo-lock only shared; with the build dir inside the
// target dir and apart from it (build.build-dir).
func TestHeldByRealCargo(t *testing.T) {
	if _, err := exec.LookPath("cargo"); err != nil {
		testneed.Missing(t, "cargo", err)
	}
	cases := []struct {
		name     string
		env      []string
		buildDir bool
	}{
		{"stable", nil, false},
		{"stable-build-dir", nil, true},
		{"nightly-new-layout", []string{"RUSTUP_TOOLCHAIN=nightly", "CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT=true"}, false},
		{"nightly-new-layout-build-dir", []string{"RUSTUP_TOOLCHAIN=nightly", "CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT=true"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env != nil && exec.Command("cargo", "+nightly", "--version").Run() != nil {
				testneed.Missing(t, "nightly", "no nightly toolchain")
			}
			dir := t.TempDir()
			files := map[string]string{
				"Cargo.toml":  "[package]\nname = \"slow\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
				"src/main.rs": "fn main() {}\n",
				"build.rs":    "fn main() { std::thread::sleep(std::time::Duration::from_secs(3)); }\n",
			}
			for p, c := range files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
				os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644)
			}
			target, build := filepath.Join(dir, "target"), filepath.Join(dir, "target")
			cmd := exec.Command("cargo", "build", "-q")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CARGO_TARGET_DIR="+target)
			if c.buildDir {
				build = filepath.Join(dir, "build-dir")
				cmd.Env = append(cmd.Env, "CARGO_BUILD_BUILD_DIR="+build)
			}
			cmd.Env = append(cmd.Env, c.env...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var held []Lock
			for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				var err error
				if held, err = Held(target, build); err != nil {
					t.Fatal(err)
				}
				if len(held) > 0 {
					break
				}
			}
			if len(held) == 0 || held[0].PID == 0 {
				t.Errorf("during build: %+v", held)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			if held, _ := Held(target, build); len(held) != 0 {
				t.Fatalf("after build: %+v", held)
			}
		})
	}
}
