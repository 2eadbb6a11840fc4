package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/agent"
	"github.com/grove-rs/grove/internal/bench/measure"
	"github.com/grove-rs/grove/internal/launch"
	"github.com/grove-rs/grove/internal/remote"
)

// remoteUser is a strategy that shares builds between machines through a
// remote cache. Its session builds worktree A on the first machine first
// (CI's build, which fills the remote) before other-machine, and its
// steps record the bytes it moved.
type remoteUser interface {
	// fills says whether a first machine's build can fill the remote (a
	// remote that is down cannot be filled).
	fills() bool
	// moved returns the bytes sent to and received from the remote so far.
	moved() (up, down int64)
}

// stepHooks is a strategy with a process that serves the build but is not
// its child (grove's remote agent). begin starts it before a step's
// measurement; end, after the build and outside its wall time, stops it
// once its background work (write-behind uploads) is done, so the step's
// bytes and CPU include that work.
type stepHooks interface {
	begin(ctx context.Context) error
	end(ctx context.Context) error
}

// remoteLink is the remote of a session: the bench's S3 server (nil when
// the remote is down) and the session's own prefix in its bucket, so that
// rounds and strategies never warm each other.
type remoteLink struct {
	srv    *s3Server
	prefix string
}

func (l remoteLink) fills() bool { return l.srv != nil }

func (l remoteLink) moved() (up, down int64) {
	if l.srv == nil {
		return 0, 0
	}
	return l.srv.moved()
}

// agentIdle keeps the agent the bench starts alive through the longest
// build; the bench stops it itself after each step (and the agent exits
// when its store is removed).
const agentIdle = "2h"

// groveRemoteStrategy is grove with a remote cache: GROVE_REMOTE in the
// bench's bucket under the session's prefix, or (down set) an endpoint
// nobody listens on. On the first machine it writes (CI); on the second
// it is read-only, as a laptop or an agent's sandbox is configured.
type groveRemoteStrategy struct {
	groveStrategy
	link     remoteLink
	down     string // the dead endpoint of grove-remote-down
	shortDir func() (string, error)
	second   bool     // on the second machine
	dirs     []string // stores made by setup, removed by teardown

	agent     *exec.Cmd
	agentDone chan struct{}
	agentCPU  time.Duration // of the agents that ended
	agentRSS  int64
}

// setup puts the store in a short temp dir: the agent's socket lives in
// the store and a Unix socket path is limited to about 104 bytes, which a
// work dir under a long --out would exceed.
func (g *groveRemoteStrategy) setup(context.Context, string) error {
	d, err := g.shortDir()
	if err != nil {
		return err
	}
	g.store = d
	g.dirs = append(g.dirs, d)
	return nil
}

func (g *groveRemoteStrategy) env(tree string) map[string]string {
	e := g.groveStrategy.env(tree)
	e["GROVE_REMOTE_IDLE"] = agentIdle
	if g.down != "" {
		e[remote.EnvURL] = "s3://" + s3Bucket + "/down"
		e[remote.EnvEndpoint] = g.down
		e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_REGION"] = "grove-bench", "grove-bench", "us-east-1"
	} else {
		e[remote.EnvURL] = "s3://" + g.link.srv.bucket + "/" + g.link.prefix
		e[remote.EnvEndpoint] = g.link.srv.endpoint()
		for k, v := range g.link.srv.credentials() {
			e[k] = v
		}
	}
	if g.second {
		e[remote.EnvReadOnly] = "1"
	}
	return e
}

func (g *groveRemoteStrategy) fills() bool           { return g.down == "" && g.link.fills() }
func (g *groveRemoteStrategy) moved() (int64, int64) { return g.link.moved() }

func (g *groveRemoteStrategy) otherMachine(ctx context.Context, _ string) error {
	if err := g.end(ctx); err != nil {
		return err
	}
	g.second = true
	return g.setup(ctx, "")
}

func (g *groveRemoteStrategy) client() (*agent.Client, error) {
	env := g.env("")
	cfg, ok, err := remote.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || !ok {
		return nil, fmt.Errorf("remote configuration: %v", err)
	}
	return agent.NewClient(g.store, cfg)
}

// begin starts `grove-cli agent` (the one beside the grove under test)
// for the store as the bench's child, so its CPU is known (the wrapper would start the same agent, detached, on the
// first local miss; finding it running, it uses it).
func (g *groveRemoteStrategy) begin(ctx context.Context) error {
	if g.agent != nil {
		return nil
	}
	cl, err := g.client()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(filepath.Dir(g.bin), launch.CLI), "agent", "--store", g.store)
	cmd.Env = measure.Env(baseEnv(os.Environ()), g.env(""))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting grove agent: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	g.agent, g.agentDone = cmd, done
	for deadline := time.Now().Add(10 * time.Second); !cl.Ping(); {
		select {
		case <-done:
			g.reap()
			return errors.New("grove agent exited at once (is another agent serving this store?)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("grove agent does not answer")
		}
	}
	return nil
}

// agentDrain bounds the wait for the write-behind uploads after a build.
const agentDrain = 30 * time.Minute

// end asks the agent to quit once its uploads are done and waits for it.
func (g *groveRemoteStrategy) end(ctx context.Context) error {
	if g.agent == nil {
		return nil
	}
	cl, err := g.client()
	if err == nil {
		err = cl.Quit()
	}
	if err != nil {
		_ = g.agent.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-g.agentDone:
	case <-ctx.Done():
		_ = g.agent.Process.Kill()
		<-g.agentDone
	case <-time.After(agentDrain):
		_ = g.agent.Process.Kill()
		<-g.agentDone
		err = fmt.Errorf("grove agent still uploading after %s", agentDrain)
	}
	g.reap()
	return err
}

// reap adds an ended agent's CPU and peak RSS.
func (g *groveRemoteStrategy) reap() {
	if ps := g.agent.ProcessState; ps != nil {
		g.agentCPU += ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			g.agentRSS = max(g.agentRSS, ru.Maxrss*1024)
		}
	}
	g.agent, g.agentDone = nil, nil
}

// outside is the CPU of the agents: they fetch, verify and upload for the
// build.
func (g *groveRemoteStrategy) outside() (time.Duration, int64) {
	cpu := g.agentCPU
	if g.agent != nil {
		if c, err := measure.ProcCPU(g.agent.Process.Pid); err == nil {
			cpu += c
		}
	}
	return cpu, g.agentRSS
}

func (g *groveRemoteStrategy) teardown() error {
	if g.agent != nil {
		_ = g.agent.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.agentDone:
		case <-time.After(10 * time.Second):
			_ = g.agent.Process.Kill()
			<-g.agentDone
		}
		g.reap()
	}
	var errs []error
	for _, d := range g.dirs {
		errs = append(errs, removeAll(d))
	}
	g.dirs = nil
	return errors.Join(errs...)
}

// sccacheRemoteVars configure sccache's S3 backend for the bench's server.
func sccacheRemoteVars(l remoteLink) map[string]string {
	e := l.srv.credentials()
	host := l.srv.ln.Addr().String()
	e["SCCACHE_BUCKET"] = l.srv.bucket
	e["SCCACHE_ENDPOINT"] = host
	e["SCCACHE_S3_USE_SSL"] = "false"
	e["SCCACHE_REGION"] = "us-east-1"
	e["SCCACHE_S3_KEY_PREFIX"] = l.prefix
	return e
}

// sccacheRemoteStrategy is sccache with its S3 backend in the bench's
// bucket. Each machine has its own server (and an empty local dir).
type sccacheRemoteStrategy struct {
	sccacheStrategy
	link remoteLink
}

func (s *sccacheRemoteStrategy) fills() bool           { return true }
func (s *sccacheRemoteStrategy) moved() (int64, int64) { return s.link.moved() }

// sccacheS3Probe starts sccache's server with the S3 backend once and
// stops it: "" when it works, else why not (Debian's sccache 0.4 is built
// without S3: "cache type is not enabled").
func sccacheS3Probe(ctx context.Context, bin string, srv *s3Server, dir string) string {
	s := &sccacheStrategy{bin: bin, remote: sccacheRemoteVars(remoteLink{srv: srv, prefix: "probe"})}
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = s.setup(ctx, dir)
	}
	_ = s.teardown()
	_ = removeAll(dir)
	if err == nil {
		return ""
	}
	return "sccache cannot use S3 here: " + lastLine(err.Error())
}

func lastLine(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}

// machineTwoEnv is what the second machine's builds get on top of the
// cleaned environment: its own CARGO_HOME, empty but for the user's Cargo
// config (so a mirror or a source replacement there still holds).
// Registry crates are then downloaded again, unless the workspace's own
// config points at a vendored or system directory (the corpus does).
func machineTwoEnv(dir string) (map[string]string, error) {
	home := filepath.Join(dir, "cargo-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	user := os.Getenv("CARGO_HOME")
	if user == "" {
		if h, err := os.UserHomeDir(); err == nil {
			user = filepath.Join(h, ".cargo")
		}
	}
	for _, name := range []string{"config.toml", "config"} {
		if b, err := os.ReadFile(filepath.Join(user, name)); err == nil {
			if err := os.WriteFile(filepath.Join(home, name), b, 0o644); err != nil {
				return nil, err
			}
		}
	}
	return map[string]string{"CARGO_HOME": home}, nil
}

func sessionPrefix(name string, run int) string { return name + "-r" + strconv.Itoa(run) }
