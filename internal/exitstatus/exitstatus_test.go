package exitstatus

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// helperEnv makes the test binary a process that ends by Exit(status).
const helperEnv = "EXITSTATUS_TEST_EXIT"

func TestMain(m *testing.M) {
	if v := os.Getenv(helperEnv); v != "" {
		n, _ := strconv.Atoi(v)
		Exit(n)
	}
	os.Exit(m.Run())
}

// A process that ends by Exit ends as the child it hands on did: the
// same exit code, or death by the same signal (the ones Go's runtime
// catches and turns into a traceback included).
func TestExitHandsOnTheChildsEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"exit 0", 0},
		{"exit 1", 1},
		{"exit 101", 101},
		{"exit 137", 137}, // a code, not a signal
		{"SIGKILL", -int(syscall.SIGKILL)},
		{"SIGABRT", -int(syscall.SIGABRT)},
		{"SIGSEGV", -int(syscall.SIGSEGV)},
		{"SIGBUS", -int(syscall.SIGBUS)},
		{"SIGILL", -int(syscall.SIGILL)},
		{"SIGQUIT", -int(syscall.SIGQUIT)},
		{"SIGTERM", -int(syscall.SIGTERM)},
		{"SIGINT", -int(syscall.SIGINT)},
		{"SIGPIPE", -int(syscall.SIGPIPE)},
		{"SIGUSR1", -int(syscall.SIGUSR1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(tc.status))
			cmd.Dir = t.TempDir() // where a core dump would go
			out, err := cmd.CombinedOutput()
			got, ok := FromWait(err)
			if !ok {
				t.Fatalf("run helper: %v", err)
			}
			if got != tc.status {
				t.Errorf("ended with %s, want %s\n%s", String(got), String(tc.status), out)
			}
			if len(out) != 0 {
				t.Errorf("printed %q, want nothing (no runtime traceback)", out)
			}
		})
	}
}

// FromWait reads a real child's end; an error that is not one is not
// taken for a status.
func TestFromWait(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -9 $$", -9},
		{"kill -6 $$", -6},
	} {
		got, ok := FromWait(exec.Command("/bin/sh", "-c", tc.script).Run())
		if !ok || got != tc.want {
			t.Errorf("%q: got %d %v, want %d", tc.script, got, ok, tc.want)
		}
	}
	if _, ok := FromWait(exec.Command("/nonexistent/prog").Run()); ok {
		t.Errorf("a child that never started has a status")
	}
}

// A core is dumped as the child's was: with the limit allowing one, a
// status that says the child dumped core ends in a dump ("core dumped" to
// Cargo), and one that says it did not ends without one.
func TestExitDumpsCoreAsTheChild(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &old); err != nil {
		t.Fatal(err)
	}
	if old.Max == 0 {
		t.Skip("core dumps are off (hard limit 0)")
	}
	lim := syscall.Rlimit{Cur: old.Max, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_CORE, &old)
	for _, core := range []bool{false, true} {
		status := -int(syscall.SIGABRT)
		if core {
			status = -(int(syscall.SIGABRT) | coreFlag)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(status))
		cmd.Dir = t.TempDir()
		err := cmd.Run()
		got, ok := FromWait(err)
		if !ok {
			t.Fatalf("run helper: %v", err)
		}
		if core && got == -int(syscall.SIGABRT) {
			t.Skip("this system dumped no core (core_pattern)")
		}
		if got != status {
			t.Errorf("ended with %s, want %s", String(got), String(status))
		}
	}
}
