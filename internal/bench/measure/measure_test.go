package measure

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/testneed"
)

func TestParseUnits(t *testing.T) {
	out := strings.Join([]string{
		`{"reason":"compiler-artifact","package_id":"a","fresh":true}`,
		`{"reason":"compiler-artifact","package_id":"b","fresh":false}`,
		`{"reason":"build-script-executed","package_id":"b"}`,
		`{"reason":"compiler-artifact","package_id":"c","fresh":false}`,
		`{"reason":"compiler-message","message":{"rendered":"\"compiler-artifact\""}}`,
		`not json "compiler-artifact"`,
		`{"reason":"build-finished","success":true}`,
	}, "\n")
	if got := ParseUnits([]byte(out)); got != (Units{Compiled: 2, Fresh: 1}) {
		t.Errorf("ParseUnits = %+v, want 2 compiled, 1 fresh", got)
	}
	if got := ParseUnits(nil); got != (Units{}) {
		t.Errorf("ParseUnits(nil) = %+v", got)
	}
}

func TestEnv(t *testing.T) {
	got := Env([]string{"A=1", "B=2", "C=3", "NOEQ"}, map[string]string{"B": "x", "D": ""}, "C")
	slices.Sort(got)
	want := []string{"A=1", "B=x", "D=", "NOEQ"}
	if !slices.Equal(got, want) {
		t.Errorf("Env = %v, want %v", got, want)
	}
}

func TestRunMeasuresChildren(t *testing.T) {
	// The shell's child burns CPU; the shell waits for it, so it counts.
	out, err := Run(t.Context(), Command{Dir: t.TempDir(), Env: os.Environ(),
		Args: []string{"sh", "-c", `sh -c 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done'; echo done`}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(out.Stdout)) != "done" {
		t.Errorf("stdout %q", out.Stdout)
	}
	if out.Cost.CPU() <= 0 || out.Cost.Wall <= 0 || out.Cost.MaxRSS <= 0 {
		t.Errorf("cost not measured: %+v", out.Cost)
	}
}

func TestRunReportsFailureWithStderr(t *testing.T) {
	_, err := Run(t.Context(), Command{Env: os.Environ(), Args: []string{"sh", "-c", "echo boom >&2; exit 3"}})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want the stderr tail in it", err)
	}
}

func TestRunCancelKillsTheGroup(t *testing.T) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, Command{Env: os.Environ(), Args: []string{"sh", "-c", "sleep 30 & sleep 30; wait"}})
	if err == nil {
		t.Fatal("cancelled command reported success")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}
}

func TestProcCPUOfSelf(t *testing.T) {
	end := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(end) {
	}
	cpu, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if cpu <= 0 {
		t.Errorf("ProcCPU(self) = %v", cpu)
	}
	if ProcPeakRSS(os.Getpid()) <= 0 {
		t.Error("ProcPeakRSS(self) = 0")
	}
	if FindProc("no-such-comm-xyz", "A=B") != 0 {
		t.Error("FindProc found a process that does not exist")
	}
}

func TestMachineBusy(t *testing.T) {
	a, err := MachineBusy()
	if err != nil {
		testneed.Missing(t, "proc", err)
	}
	end := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(end) {
	}
	b, err := MachineBusy()
	if err != nil || b < a || a <= 0 {
		t.Errorf("MachineBusy went %v -> %v (%v)", a, b, err)
	}
}
