package cache_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/agent"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/remote/remotetest"
	"github.com/grove-rs/grove/internal/stats"
)

// Build-script runs and prefetch through a real MinIO, between two
// machines (newMachine): runs a machine stored are replayed on another
// from the remote, verified, as a local hit; and what the uploader's
// index names is fetched ahead, so the other machine's lookups are local.

// minioEnv starts MinIO and returns the remote's environment, with run
// caching on (test/cache turns it off by default).
func minioEnv(t *testing.T) (*remotetest.MinIO, []string) {
	t.Helper()
	m := remotetest.StartMinIO(t, "")
	env := []string{"GROVE_CACHE_BUILD_SCRIPTS=1"}
	for k, v := range m.Env("runs") {
		env = append(env, k+"="+v)
	}
	return m, env
}

// treeOutputs is what a build of the example left that plain cargo's must
// equal: what the program prints, each build-script run's `output` (what
// it printed to Cargo) and its generated sources, with the clone's path
// written <tree>.
func treeOutputs(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(run(t, filepath.Join(dir, "target/debug/app")) + "\n")
	ms, _ := filepath.Glob(filepath.Join(dir, "target/debug/build/*/output"))
	gen, _ := filepath.Glob(filepath.Join(dir, "target/debug/build/*/out/*.rs"))
	for _, p := range slices.Concat(ms, gen) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel + ":\n" + strings.ReplaceAll(string(data), dir, "<tree>") + "\n")
	}
	return b.String()
}

// runsBy returns the build-script runs of a build of kind, by package,
// with what the remote did for each.
func runsBy(b build, kind string) map[string]string {
	out := map[string]string{}
	for _, ev := range b.events {
		if ev.Run && ev.Kind == kind {
			out[ev.Crate] = ev.Remote
		}
	}
	return out
}

// uploadRuns has machine A build the example with runs cached and upload
// everything, and returns A's build.
func uploadRuns(t *testing.T, repo string, env []string) build {
	a := newMachine(t, repo, env...)
	ba := a.cargo(a.dir, true, "build")
	if got := runsBy(ba, stats.Miss); len(got) != 2 {
		t.Fatalf("machine A stored runs of %v, want alpha and beta: %+v", got, ba.events)
	}
	a.waitUploaded(ba)
	a.stopAgent() // its last uploads and the key index are written
	return ba
}

// TestRemoteBuildScriptRuns: machine B (a second clone at another path,
// its own CARGO_HOME, an empty store) replays A's build-script runs from
// the remote instead of running them, compiles nothing, and its runs'
// outputs and program equal plain cargo's.
func TestRemoteBuildScriptRuns(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, fixture())
	p := newMachine(t, repo)
	p.cargo(p.dir, false, "build")
	want := treeOutputs(t, p.dir)

	_, env := minioEnv(t)
	uploadRuns(t, repo, env)

	b := newMachine(t, repo, env...)
	bb := b.cargo(b.dir, true, "build")
	if got := runsBy(bb, stats.Hit); got["alpha"] != agent.Hit || got["beta"] != agent.Hit {
		t.Errorf("machine B replayed %v (package → remote), want alpha and beta from the remote; ran %v", got, runsBy(bb, stats.Miss))
	}
	if got := bb.crates(stats.Miss); len(got) > 0 {
		t.Errorf("machine B compiled or ran %v (remote: %v)", got, remoteOutcomes(bb.events))
	}
	if got := treeOutputs(t, b.dir); got != want {
		t.Errorf("machine B's outputs\n%s\nplain cargo's\n%s", got, want)
	}
	// What was imported is now local: a fresh target dir replays it
	// without asking the remote.
	b.cargo(b.dir, true, "clean")
	bb2 := b.cargo(b.dir, true, "build")
	if got := runsBy(bb2, stats.Hit); len(got) != 2 || got["alpha"] != "" || got["beta"] != "" {
		t.Errorf("after clean, runs replayed %v (package → remote), want both local", got)
	}
}

// TestRemoteBuildScriptRunInputDiffers: on machine B an input of beta's
// script differs (an edit not committed), so the remote's run of beta is
// not B's: B runs beta's script for real, and its outputs equal plain
// cargo's on the same edit.
func TestRemoteBuildScriptRunInputDiffers(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, fixture())
	const edit = "gen-on-b\n"
	p := newMachine(t, repo)
	writeTree(t, p.dir, map[string]string{"beta/gen-input.txt": edit})
	p.cargo(p.dir, false, "build")
	want := treeOutputs(t, p.dir)

	_, env := minioEnv(t)
	uploadRuns(t, repo, env)

	b := newMachine(t, repo, env...)
	writeTree(t, b.dir, map[string]string{"beta/gen-input.txt": edit})
	bb := b.cargo(b.dir, true, "build")
	// beta's script runs. alpha's may too: what git reports modified
	// outside a package is keyed for its run (key/treestate.go).
	if got, ok := runsBy(bb, stats.Miss)["beta"]; !ok || got == agent.Hit {
		t.Errorf("machine B ran %v, replayed %v (package → remote), want beta run, not from the remote", runsBy(bb, stats.Miss), runsBy(bb, stats.Hit))
	}
	if got := treeOutputs(t, b.dir); got != want {
		t.Errorf("machine B's outputs\n%s\nplain cargo's\n%s", got, want)
	}
}

// TestRemotePrefetch: machine A's agent keeps index/recent; machine B's
// agent, on its first request, fetches what it names; then the remote goes
// down, and B's build still gets every unit and run from what was
// prefetched (remote hits, no compile, no run): its lookups were local.
func TestRemotePrefetch(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, fixture())
	p := newMachine(t, repo)
	p.cargo(p.dir, false, "build")
	want := treeOutputs(t, p.dir)

	srv, env := minioEnv(t)
	ba := uploadRuns(t, repo, env)

	b := newMachine(t, repo, env...)
	cfg, _, err := remote.ConfigFromEnv(b.getenv)
	if err != nil {
		t.Fatal(err)
	}
	// The index names every manifest A uploaded.
	be, err := remote.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := remote.GetRecord(context.Background(), be, nil, remote.IndexName)
	be.Close()
	if err != nil {
		t.Fatalf("%s: %v", remote.IndexName, err)
	}
	x, err := record.DecodeKeyIndex(ib)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range ba.events {
		if ev.Kind != stats.Miss {
			continue
		}
		k := record.KeyRef{NS: record.NSManifest, Key: ev.Key}
		if ev.Run {
			k.NS = record.NSRunManifest
		}
		if !slices.Contains(x.Keys, k) {
			t.Errorf("%s does not name %v (%s)", remote.IndexName, k, ev.Crate)
		}
	}

	// B's agent, started as the wrapper would, and its first request.
	cmd := exec.Command(groveBin, "agent", "--store", b.store)
	cmd.Env = append(append(os.Environ(), "GROVE_DIR="+b.store), b.extra...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	c, err := agent.NewClient(b.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !c.Ping(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("agent did not start")
		}
	}
	if r, err := c.Manifest(strings.Repeat("0", 64)); err != nil || r.Status != agent.Miss {
		t.Fatalf("first request: %+v, %v", r, err)
	}
	sock, _ := agent.SocketPath(b.store, cfg)
	done := regexp.MustCompile(`prefetch done: (\d+) of (\d+) keys`)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		log, _ := os.ReadFile(sock + ".log")
		if m := done.FindSubmatch(log); m != nil {
			if string(m[1]) != string(m[2]) {
				t.Errorf("prefetch: %s", m[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prefetch not done; agent log:\n%s", log)
		}
	}

	srv.Kill()
	bb := b.cargo(b.dir, true, "build")
	if got := bb.crates(stats.Miss); len(got) > 0 {
		t.Errorf("with the remote down after the prefetch, machine B compiled or ran %v (remote: %v)\nagent log:\n%s", got, remoteOutcomes(bb.events), agentLog(sock))
	}
	hits := 0
	for _, ev := range bb.events {
		if ev.Kind == stats.Hit && ev.Remote == agent.Hit {
			hits++
		}
	}
	if hits != ba.count(stats.Miss) {
		t.Errorf("%d remote hits, want %d (remote: %v)", hits, ba.count(stats.Miss), remoteOutcomes(bb.events))
	}
	if got := treeOutputs(t, b.dir); got != want {
		t.Errorf("machine B's outputs\n%s\nplain cargo's\n%s", got, want)
	}
}

func agentLog(sock string) string {
	f, err := os.Open(sock + ".log")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// TestRemoteBuildScriptRunCorruptBlob: a blob of a run changed on the
// remote (beta's generated gen.rs, same size, other bytes) is never
// replayed: machine B refuses that run and runs beta's script itself; the
// other run still comes from the remote, and B's outputs equal plain
// cargo's.
func TestRemoteBuildScriptRunCorruptBlob(t *testing.T) {
	t.Parallel()
	repo := newRepo(t, fixture())
	p := newMachine(t, repo)
	p.cargo(p.dir, false, "build")
	want := treeOutputs(t, p.dir)

	dir := t.TempDir()
	env := []string{"GROVE_CACHE_BUILD_SCRIPTS=1", "GROVE_REMOTE=file://" + dir}
	uploadRuns(t, repo, env)

	ents, err := os.ReadDir(filepath.Join(dir, record.NSRun))
	if err != nil {
		t.Fatal(err)
	}
	corrupted := ""
	for _, de := range ents {
		b, err := os.ReadFile(filepath.Join(dir, record.NSRun, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		r, err := record.DecodeBuildRun(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Files {
			if r.Package == "beta" && f.Path == "gen.rs" {
				blob := filepath.Join(dir, "blob", string(f.Digest))
				data, err := os.ReadFile(blob)
				if err != nil {
					t.Fatal(err)
				}
				data[len(data)-2] ^= 0x01
				if err := os.WriteFile(blob, data, 0o644); err != nil {
					t.Fatal(err)
				}
				corrupted = string(f.Digest)
			}
		}
	}
	if corrupted == "" {
		t.Fatal("no run of beta writing gen.rs on the remote")
	}

	b := newMachine(t, repo, env...)
	bb := b.cargo(b.dir, true, "build")
	if got := runsBy(bb, stats.Miss); len(got) != 1 || got["beta"] != agent.Refused {
		t.Errorf("machine B ran %v (package → remote), want beta alone, its remote run refused", got)
	}
	if got := runsBy(bb, stats.Hit); len(got) != 1 || got["alpha"] != agent.Hit {
		t.Errorf("machine B replayed %v, want alpha from the remote", got)
	}
	if got := treeOutputs(t, b.dir); got != want {
		t.Errorf("machine B's outputs\n%s\nplain cargo's\n%s", got, want)
	}
	// B's own run stored the true gen.rs under that digest; what is there
	// must be it.
	if d, _, err := (&filehash.Hasher{}).File(filepath.Join(b.store, "blobs", corrupted[:2], corrupted)); err == nil && d != corrupted {
		t.Errorf("the corrupted blob reached the local store")
	}
}
