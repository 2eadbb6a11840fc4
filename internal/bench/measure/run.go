// Package measure runs one build command and records what it cost: wall
// time, CPU time and peak RSS of the whole process tree (from the rusage
// the kernel returns when the command is reaped), plus what Cargo says it
// did (units compiled and fresh).
package measure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Cost is what one or more commands cost. CPU and MaxRSS come from the
// rusage of the reaped child, which includes every descendant it waited
// for (cargo waits for each rustc), so they cover the whole build.
type Cost struct {
	Wall   time.Duration
	User   time.Duration
	Sys    time.Duration
	MaxRSS int64 // bytes, the largest single process of the tree
}

// CPU is user plus system time.
func (c Cost) CPU() time.Duration { return c.User + c.Sys }

// Add accumulates o into c for commands run one after another: times add
// up, the peak is the larger of the two peaks.
func (c *Cost) Add(o Cost) {
	c.Wall += o.Wall
	c.User += o.User
	c.Sys += o.Sys
	c.MaxRSS = max(c.MaxRSS, o.MaxRSS)
}

// Command describes one command to run.
type Command struct {
	Dir  string
	Env  []string // the complete environment
	Args []string // Args[0] is looked up on PATH
}

// Output is a finished command's cost and captured output.
type Output struct {
	Cost   Cost
	Stdout []byte
	Stderr []byte
}

// stderrTail is how much of a failed command's stderr goes into its error:
// enough to see the compiler error, not the whole build log.
const stderrTail = 2000

// Run runs c to completion in its own process group and measures it. When
// ctx is cancelled the whole group gets SIGTERM (cargo then stops its rustc
// children), and SIGKILL if it is still there five seconds later.
func Run(ctx context.Context, c Command) (Output, error) {
	if len(c.Args) == 0 {
		return Output{}, errors.New("measure: empty command")
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	err := cmd.Run()
	out := Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	out.Cost.Wall = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		out.Cost.User = ps.UserTime()
		out.Cost.Sys = ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			out.Cost.MaxRSS = maxRSSBytes(ru)
		}
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	if err != nil {
		return out, fmt.Errorf("%s in %s: %w%s", strings.Join(c.Args, " "), c.Dir, err, tail(out.Stderr))
	}
	return out, nil
}

// tail formats the end of a failed command's stderr for an error message.
func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > stderrTail {
		s = "..." + s[len(s)-stderrTail:]
	}
	return "\n" + s
}

// Env returns base with the variables in set replaced or added and the
// ones named in unset removed. A value of "" in set is kept as an empty
// variable (RUSTC_WRAPPER="" tells Cargo to use no wrapper even if a
// config file names one).
func Env(base []string, set map[string]string, unset ...string) []string {
	drop := make(map[string]bool, len(set)+len(unset))
	for k := range set {
		drop[k] = true
	}
	for _, k := range unset {
		drop[k] = true
	}
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}
