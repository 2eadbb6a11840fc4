package e2e

// `grove bench` with a remote cache, on the bundled example/ workspace and
// a real MinIO the bench starts itself: the other-machine scenario, grove
// with the remote (CI fills it, the second machine reads it), with the
// remote down, and sccache's S3 backend where this sccache has one. It
// checks what the figures are made of (hits, bytes, failures) and the
// cleanup, never timings.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/bench/report"
	"github.com/grove-rs/grove/internal/remote/remotetest"
)

// exampleRepoForBench copies example/ into a git repository of one commit.
func exampleRepoForBench(t *testing.T) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "example")
	if out, err := exec.Command("cp", "-r", filepath.Join("..", "example"), repo).CombinedOutput(); err != nil {
		t.Fatalf("copying example/: %v\n%s", err, out)
	}
	os.RemoveAll(filepath.Join(repo, "target"))
	gitForBench(t, repo, "init", "-q", "-b", "main")
	gitForBench(t, repo, "add", "-A")
	gitForBench(t, repo, "commit", "-q", "-m", "one")
	return repo
}

func TestBenchRemoteOtherMachine(t *testing.T) {
	requireToolsForBench(t, "git", "cargo", "go")
	minio := remotetest.MinIOBin(t)
	grove := buildGroveForBench(t)
	repo := exampleRepoForBench(t)
	out := filepath.Join(t.TempDir(), "out")
	tmp := t.TempDir() // TMPDIR of the run (the agents' short store dirs): must end empty

	cmd := exec.Command(grove, "bench", "--repo", repo, "--runs", "1",
		"--scenarios", "cold,other-machine",
		"--strategies", "plain,sccache-remote,grove-remote,grove-remote-down",
		"--minio", minio, "--out", out, "--json")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp,
		// The user's remote settings must not leak into any strategy.
		"GROVE_REMOTE=s3://users-bucket/x", "SCCACHE_BUCKET=users-bucket", "AWS_ACCESS_KEY_ID=users-key")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("grove bench: %v\nstderr:\n%s", err, stderr.String())
	}
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout.String())
	}
	sample := func(scenario, strategy string) *report.Sample {
		for i, s := range rep.Samples {
			if s.Scenario == scenario && s.Strategy == strategy {
				if s.Error != "" {
					t.Fatalf("%s/%s failed: %s", scenario, strategy, s.Error)
				}
				return &rep.Samples[i]
			}
		}
		t.Fatalf("no sample %s/%s; stderr:\n%s", scenario, strategy, stderr.String())
		return nil
	}
	sccacheRan := false
	for _, st := range rep.Strategies {
		switch {
		case st.Name == "sccache-remote" && st.Skipped:
			// Debian's sccache 0.4 is built without S3; the note says so.
			if !strings.Contains(st.Note, "S3") {
				t.Errorf("sccache-remote skipped without saying S3 is missing: %s", st.Note)
			}
		case st.Name == "sccache-remote":
			sccacheRan = true
		case st.Skipped:
			t.Errorf("%s skipped: %s", st.Name, st.Note)
		}
	}

	plain := sample("other-machine", "plain")
	if plain.UnitsCompiled == 0 || plain.Remote != nil {
		t.Errorf("plain on the second machine: %d units compiled, remote %+v", plain.UnitsCompiled, plain.Remote)
	}

	// CI's build fills the remote; the second machine (read-only, empty
	// store, its own CARGO_HOME and path) is served every unit from it.
	ci := sample("cold", "grove-remote")
	if ci.Remote == nil || ci.Remote.UpBytes < 100_000 {
		t.Errorf("CI's build uploaded %+v, want the outputs of every unit", ci.Remote)
	}
	m2 := sample("other-machine", "grove-remote")
	if m2.Cache == nil || m2.Cache.Remote["hit"] != m2.UnitsCompiled || m2.UnitsCompiled == 0 || m2.Rustc != 0 {
		t.Errorf("second machine: %d units compiled, rustc %d, cache %+v: want every unit a remote hit", m2.UnitsCompiled, m2.Rustc, m2.Cache)
	}
	if m2.Remote == nil || m2.Remote.DownBytes < 100_000 || m2.Remote.UpBytes > m2.Remote.DownBytes/10 {
		t.Errorf("second machine moved %+v: want the outputs down and only requests up (it is read-only)", m2.Remote)
	}
	if m2.Remote != nil && m2.Remote.FilledBytes != ci.Remote.UpBytes {
		t.Errorf("second machine: filled %d bytes, CI's build uploaded %d", m2.Remote.FilledBytes, ci.Remote.UpBytes)
	}
	if m2.Cache.HitMedianMs <= 0 || m2.Cache.RemoteHitMedianMs <= 0 || m2.Cache.RemoteHitMedianMs > m2.Cache.HitMedianMs {
		t.Errorf("second machine: median hit %v ms, of which remote %v ms", m2.Cache.HitMedianMs, m2.Cache.RemoteHitMedianMs)
	}

	// The remote down: the build compiles everything and says the remote
	// failed; it moves nothing.
	down := sample("other-machine", "grove-remote-down")
	if down.Rustc != down.UnitsCompiled || down.UnitsCompiled == 0 || down.Cache == nil ||
		down.Cache.Remote["unavailable"]+down.Cache.Remote["skipped"] == 0 {
		t.Errorf("remote down: %d units, rustc %d, cache %+v", down.UnitsCompiled, down.Rustc, down.Cache)
	}
	if down.Remote != nil && down.Remote.UpBytes+down.Remote.DownBytes != 0 {
		t.Errorf("remote down moved bytes: %+v", down.Remote)
	}

	if sccacheRan {
		sc := sample("other-machine", "sccache-remote")
		if sc.Remote == nil || sc.Remote.DownBytes == 0 || sc.Cache == nil || sc.Cache.Hits == 0 {
			t.Errorf("sccache-remote on the second machine: remote %+v, cache %+v", sc.Remote, sc.Cache)
		}
	}

	// The table has the remote block.
	var table bytes.Buffer
	if err := report.WriteTable(&table, rep.Summaries, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "bytes moved") {
		t.Errorf("table without the remote block:\n%s", table.String())
	}

	// Cleanup: results only; no short store dirs; no MinIO or agent left.
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "bench.json,bench.svg" {
		t.Errorf("output dir holds %v, want only bench.json and bench.svg", names)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if c := string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})); strings.Contains(c, out) || strings.Contains(c, tmp) {
			t.Errorf("still running after grove bench: %s", c)
		}
	}
}
