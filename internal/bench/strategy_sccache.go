package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/bench/measure"
	"github.com/grove-rs/grove/internal/bench/report"
)

// sccacheIdleTimeout stops our private server by itself if grove bench
// dies without stopping it (SIGKILL). It is long enough that the server
// never idles out during a session: it gets requests all through a build.
const sccacheIdleTimeout = "1800"

// sccacheStrategy is sccache as RUSTC_WRAPPER, with a private cache dir and
// a private server on its own port, so neither the user's cache nor the
// user's running server is touched. The server, not the build's process
// tree, runs the compilers: its CPU is read from /proc and added.
type sccacheStrategy struct {
	bin  string
	dir  string // cache dir
	log  string // server's stdout/stderr
	port int
	pid  int // server pid, 0 if not found
	// remote, if set, configures a remote backend (sccache-remote).
	remote map[string]string
}

func (s *sccacheStrategy) setup(ctx context.Context, dir string) error {
	s.dir = filepath.Join(dir, "sccache")
	s.log = filepath.Join(dir, "sccache-server.log")
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("sccache: finding a free port: %w", err)
	}
	s.port = port
	// The server daemonizes and inherits stdout/stderr: give it a file, not
	// a pipe, or waiting for --start-server would wait for the server.
	logf, err := os.Create(s.log)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, s.bin, "--start-server")
	cmd.Env = s.cmdEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(s.log)
		return fmt.Errorf("sccache --start-server: %w: %s", err, b)
	}
	s.pid = measure.FindProc("sccache", "SCCACHE_SERVER_PORT="+strconv.Itoa(s.port))
	if s.pid == 0 {
		return errors.New("sccache: server started but its process was not found")
	}
	return nil
}

// cmdEnv is the environment of sccache's own commands (start, stats, stop).
func (s *sccacheStrategy) cmdEnv() []string {
	return measure.Env(baseEnv(os.Environ()), s.vars())
}

func (s *sccacheStrategy) vars() map[string]string {
	v := map[string]string{
		"SCCACHE_DIR":          s.dir,
		"SCCACHE_SERVER_PORT":  strconv.Itoa(s.port),
		"SCCACHE_IDLE_TIMEOUT": sccacheIdleTimeout,
	}
	for k, x := range s.remote {
		v[k] = x
	}
	return v
}

func (s *sccacheStrategy) env(tree string) map[string]string {
	e := ownTarget(tree)
	for k, v := range s.vars() {
		e[k] = v
	}
	e["RUSTC_WRAPPER"] = s.bin
	return e
}

func (s *sccacheStrategy) stores() []string { return []string{s.dir} }

// otherMachine stops this machine's server and starts one with an empty
// cache dir.
func (s *sccacheStrategy) otherMachine(ctx context.Context, dir string) error {
	if err := s.teardown(); err != nil {
		return err
	}
	return s.setup(ctx, dir)
}
func (s *sccacheStrategy) prepare(string) *measure.Command { return nil }

// counters reads the server's statistics: hits and misses summed over
// languages, and the requests it refused to cache.
func (s *sccacheStrategy) counters(ctx context.Context) *report.Cache {
	cmd := exec.CommandContext(ctx, s.bin, "--show-stats", "--stats-format=json")
	cmd.Env = s.cmdEnv()
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var st struct {
		Stats struct {
			Hits        struct{ Counts map[string]int } `json:"cache_hits"`
			Misses      struct{ Counts map[string]int } `json:"cache_misses"`
			NotCachable int                             `json:"requests_not_cacheable"`
		} `json:"stats"`
	}
	if json.Unmarshal(out, &st) != nil {
		return nil
	}
	c := &report.Cache{Uncacheable: st.Stats.NotCachable}
	for _, n := range st.Stats.Hits.Counts {
		c.Hits += n
	}
	for _, n := range st.Stats.Misses.Counts {
		c.Misses += n
	}
	return c
}

func (s *sccacheStrategy) outside() (time.Duration, int64) {
	if s.pid == 0 {
		return 0, 0
	}
	cpu, err := measure.ProcCPU(s.pid)
	if err != nil {
		return 0, 0
	}
	return cpu, measure.ProcPeakRSS(s.pid)
}

// idle returns at once: the server's work ends with each compile.
func (*sccacheStrategy) idle(context.Context, string) error { return nil }

// teardown stops the private server, by signal if --stop-server fails.
func (s *sccacheStrategy) teardown() error {
	if s.port == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "--stop-server")
	cmd.Env = s.cmdEnv()
	err := cmd.Run()
	if err != nil && s.pid != 0 {
		if kerr := syscall.Kill(s.pid, syscall.SIGTERM); kerr == nil || errors.Is(kerr, syscall.ESRCH) {
			err = nil
		}
	}
	s.port, s.pid = 0, 0
	if err != nil {
		return fmt.Errorf("stopping sccache server: %w", err)
	}
	return nil
}

// freePort asks the kernel for an unused TCP port on localhost.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
