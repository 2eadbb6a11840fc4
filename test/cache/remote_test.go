package cache_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/agent"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/remote/remotetest"
	"github.com/grove-rs/grove/internal/stats"
)

// Issue 11: the remote cache, between two "machines": each a clone of its
// own at its own path, with its own CARGO_HOME and its own (at first
// empty) local store; the same toolchain and the same remote.

// machine is one of them.
type machine struct {
	*env
	dir string // the clone
}

// newMachine clones repo into a fresh directory and gives it a store and a
// CARGO_HOME of its own (holding only the registry config), configured for
// the remote given by remoteEnv.
func newMachine(t *testing.T, repo string, remoteEnv ...string) *machine {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "src", "clone")
	git(t, root, "clone", "-q", repo, dir)
	home := filepath.Join(root, "cargo-home")
	writeTree(t, home, map[string]string{"config.toml": registryConfig})
	e := &env{t: t, store: filepath.Join(root, "store")}
	e.extra = append([]string{"CARGO_HOME=" + home, "GROVE_REMOTE_IDLE=10m"}, remoteEnv...)
	m := &machine{env: e, dir: dir}
	t.Cleanup(func() { m.stopAgent() })
	return m
}

// waitUploaded waits until the remote has a manifest for every unit and
// every build-script run the build stored, as the agent uploads them in
// the background.
func (m *machine) waitUploaded(b build) {
	m.t.Helper()
	cfg, ok, err := remote.ConfigFromEnv(m.getenv)
	if !ok || err != nil {
		m.t.Fatalf("no remote: %v", err)
	}
	be, err := remote.Open(context.Background(), cfg)
	if err != nil {
		m.t.Fatal(err)
	}
	defer be.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for _, ev := range b.events {
		if ev.Kind != stats.Miss {
			continue
		}
		name := record.NSManifest + "/" + ev.Key
		if ev.Run {
			name = record.NSRunManifest + "/" + ev.Key
		}
		for {
			ok, err := be.Has(context.Background(), name)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				m.t.Fatalf("%s (%s) not uploaded: %v", ev.Crate, ev.Key, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (m *machine) getenv(k string) string {
	for _, kv := range m.extra {
		if name, v, ok := strings.Cut(kv, "="); ok && name == k {
			return v
		}
	}
	return ""
}

// stopAgent asks the machine's agent to quit and waits until it has
// exited, its uploads done (it holds its lock until then).
func (m *machine) stopAgent() {
	m.t.Helper()
	cfg, ok, err := remote.ConfigFromEnv(m.getenv)
	if !ok || err != nil {
		return
	}
	sock, err := agent.SocketPath(m.store, cfg)
	if err != nil {
		return
	}
	c, _ := agent.NewClient(m.store, cfg)
	_ = c.Quit()
	lock, err := os.Open(sock + ".lock")
	if err != nil {
		return
	}
	defer lock.Close()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.t.Errorf("agent of %s did not exit", m.store)
}

func remoteOutcomes(evs []stats.Event) map[string]int {
	out := map[string]int{}
	for _, ev := range evs {
		if ev.Remote != "" {
			out[ev.Remote]++
		}
	}
	return out
}

// plainRun builds a clone of repo with plain cargo and returns what its
// program prints: what every machine must print.
func plainRun(t *testing.T, repo string) string {
	t.Helper()
	m := newMachine(t, repo)
	m.cargo(m.dir, false, "build")
	return run(t, filepath.Join(m.dir, "target/debug/app"))
}

// TestRemoteTwoMachines: machine A builds with a remote configured and its
// agent uploads what it stored; machine B, a fresh clone elsewhere with an
// empty store, builds from the remote with no compile of a cacheable unit,
// and its program prints what plain cargo's prints.
func TestRemoteTwoMachines(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, fixture())
	want := plainRun(t, repo)
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		twoMachines(t, repo, want, "GROVE_REMOTE=file://"+t.TempDir())
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		r := remotetest.StartRedis(t, "")
		twoMachines(t, repo, want, "GROVE_REMOTE="+r.URL())
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		m := remotetest.StartMinIO(t, "")
		var env []string
		for k, v := range m.Env("two-machines") {
			env = append(env, k+"="+v)
		}
		twoMachines(t, repo, want, env...)
	})
}

func twoMachines(t *testing.T, repo, want string, remoteEnv ...string) {
	a := newMachine(t, repo, remoteEnv...)
	ba := a.cargo(a.dir, true, "build")
	if n := ba.count(stats.Miss); n == 0 {
		t.Fatalf("machine A stored nothing: %+v", ba.events)
	}
	a.waitUploaded(ba)

	b := newMachine(t, repo, remoteEnv...)
	bb := b.cargo(b.dir, true, "build")
	if misses := bb.crates(stats.Miss); len(misses) > 0 {
		t.Errorf("machine B compiled %v; want everything from the remote (remote: %v)", misses, remoteOutcomes(bb.events))
	}
	if got := remoteOutcomes(bb.events)[agent.Hit]; got != ba.count(stats.Miss) {
		t.Errorf("machine B: %d remote hits, want %d (remote: %v)", got, ba.count(stats.Miss), remoteOutcomes(bb.events))
	}
	if got := run(t, filepath.Join(b.dir, "target/debug/app")); got != want {
		t.Errorf("machine B's program prints\n%s\nplain cargo's\n%s", got, want)
	}
	// A second build on B is a no-op, and a local hit never asks the remote.
	bb2 := b.cargo(b.dir, true, "build")
	if len(bb2.compiled) > 0 {
		t.Errorf("second build on B compiled %v", bb2.compiled)
	}
	b.cargo(b.dir, true, "clean")
	bb3 := b.cargo(b.dir, true, "build")
	if n := bb3.count(stats.Hit); n != ba.count(stats.Miss) {
		t.Errorf("B after clean: %d hits, want %d", n, ba.count(stats.Miss))
	}
	if out := remoteOutcomes(bb3.events); len(out) > 0 {
		t.Errorf("local hits asked the remote: %v", out)
	}
}

// TestRemoteDown: a remote that cannot be reached, or is misconfigured,
// costs the build nothing but one line in stats.
func TestRemoteDown(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, fixture())
	want := plainRun(t, repo)
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		remoteDown(t, repo, want, false, "GROVE_REMOTE=file://"+filepath.Join(t.TempDir(), "gone"))
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		r := remotetest.StartRedis(t, "")
		r.Kill()
		remoteDown(t, repo, want, true, "GROVE_REMOTE="+r.URL())
	})
	// An S3 endpoint where nothing listens (the server was killed, or
	// never started): every connection is refused.
	t.Run("s3 killed", func(t *testing.T) {
		t.Parallel()
		m := remotetest.StartMinIO(t, "")
		m.Kill()
		var env []string
		for k, v := range m.Env("down") {
			env = append(env, k+"="+v)
		}
		remoteDown(t, repo, want, true, env...)
	})
	// A GROVE_REMOTE that does not parse is a remote that is down, said
	// in stats, not a remote silently switched off.
	t.Run("bad URL", func(t *testing.T) {
		t.Parallel()
		remoteDown(t, repo, want, false, "GROVE_REMOTE=s4://x")
	})
}

// remoteDown builds on a machine whose remote fails and checks that the
// build is plain cargo's, every miss says what the remote did, and stats
// says it. notThere is a server nobody listens for (connection refused):
// the agent's breaker opens on the first failure, so only the requests
// already under way when it did (at most one per job, cargo runs
// downJobs) reach the remote; every later one is skipped at once.
func remoteDown(t *testing.T, repo, want string, notThere bool, remoteEnv ...string) {
	const downJobs = 2
	m := newMachine(t, repo, append([]string{"CARGO_BUILD_JOBS=" + strconv.Itoa(downJobs)}, remoteEnv...)...)
	b := m.cargo(m.dir, true, "build")
	if got := run(t, filepath.Join(m.dir, "target/debug/app")); got != want {
		t.Errorf("program prints\n%s\nplain cargo's\n%s", got, want)
	}
	out := remoteOutcomes(b.events)
	if n := out[agent.Unavailable] + out[agent.Skipped]; n != b.count(stats.Miss) || n == 0 {
		t.Errorf("remote outcomes %v, want every miss unavailable or skipped", out)
	}
	if notThere && (out[agent.Unavailable] > downJobs || out[agent.Skipped] == 0) {
		t.Errorf("remote outcomes %v: a remote nobody listens for should open the breaker on the first failure (at most %d unavailable, then skipped)", out, downJobs)
	}
	cmd := exec.Command(groveBin, "stats")
	cmd.Env = append(os.Environ(), "GROVE_DIR="+m.store)
	stdout, err := cmd.Output()
	if err != nil || !regexp.MustCompile(`(?m)^remote cache \(local misses\) +.*unavailable \d`).Match(stdout) {
		t.Errorf("grove stats (%v) does not say the remote was unavailable:\n%s", err, stdout)
	}
}

// TestRemoteCorruptBlob: a blob changed on the remote is never served: the
// unit that needs it compiles locally, the others still come from the
// remote.
func TestRemoteCorruptBlob(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, fixture())
	want := plainRun(t, repo)
	dir := t.TempDir()
	url := "GROVE_REMOTE=file://" + dir
	a := newMachine(t, repo, url)
	a.waitUploaded(a.cargo(a.dir, true, "build"))

	// The app binary's blob, same size, other bytes.
	ents, err := os.ReadDir(filepath.Join(dir, "entry"))
	if err != nil {
		t.Fatal(err)
	}
	corrupted := ""
	for _, de := range ents {
		b, err := os.ReadFile(filepath.Join(dir, "entry", de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var e record.Entry
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if e.Crate == "app" {
			p := filepath.Join(dir, "blob", string(e.Outputs[0].Digest))
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0xff
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			corrupted = string(e.Outputs[0].Digest)
		}
	}
	if corrupted == "" {
		t.Fatal("no entry of app on the remote")
	}

	b := newMachine(t, repo, url)
	bb := b.cargo(b.dir, true, "build")
	if got := bb.crates(stats.Miss); len(got) != 1 || got[0] != "app" {
		t.Errorf("compiled %v, want only app (remote: %v)", got, remoteOutcomes(bb.events))
	}
	if n := remoteOutcomes(bb.events)[agent.Refused]; n != 1 {
		t.Errorf("remote outcomes %v, want 1 refused", remoteOutcomes(bb.events))
	}
	if got := run(t, filepath.Join(b.dir, "target/debug/app")); got != want {
		t.Errorf("program prints\n%s\nplain cargo's\n%s", got, want)
	}
	if d, _, err := (&filehash.Hasher{}).File(filepath.Join(b.store, "blobs", corrupted[:2], corrupted)); err == nil && d != corrupted {
		t.Errorf("the corrupted blob reached the local store")
	}
}

// TestRemotePinnedNotServedElsewhere: an entry whose outputs name the tree
// that compiled it (here a program printing its OUT_DIR, pinned by the
// path scan) is uploaded, but a machine at another path never gets it: it
// compiles its own, which names its own tree, as plain cargo's does.
func TestRemotePinnedNotServedElsewhere(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"pinapp\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"build.rs":    "fn main() {}\n",
		"src/main.rs": "fn main() { println!(\"{}\", env!(\"OUT_DIR\")); }\n",
	})
	url := "GROVE_REMOTE=file://" + t.TempDir()
	a := newMachine(t, repo, url)
	ba := a.cargo(a.dir, true, "build")
	a.waitUploaded(ba)

	b := newMachine(t, repo, url)
	bb := b.cargo(b.dir, true, "build")
	if got := bb.crates(stats.Miss); len(got) != 1 || got[0] != "pinapp" {
		t.Errorf("compiled %v, want only the pinned pinapp (remote: %v)", got, remoteOutcomes(bb.events))
	}
	out := run(t, filepath.Join(b.dir, "target/debug/pinapp"))
	if !strings.HasPrefix(out, filepath.Join(b.dir, "target")) {
		t.Errorf("machine B's program prints %q, not a dir of its own tree %s", out, b.dir)
	}
}
