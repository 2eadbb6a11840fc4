package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/bench/report"
)

// Run benchmarks the repository of o and returns the report. It works in a
// throwaway clone under o.Out (created if need be) and removes it before it
// returns, also when ctx is cancelled; the report then holds the samples
// taken so far and the error is ctx's. Build failures are not errors: they
// are samples with an Error, and the other strategies go on.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	if o.Runs < 1 || o.Parallel < 1 {
		return nil, errors.New("runs and parallel must be at least 1")
	}
	if o.Out == "" {
		return nil, errors.New("no output directory")
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	src, err := resolveSource(ctx, o.Repo, o.From, o.To)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("cargo"); err != nil {
		return nil, errors.New("cargo is not on PATH")
	}
	rep := &report.Report{
		FormatVersion: report.FormatVersion,
		Started:       time.Now().UTC(),
		Repo:          filepath.Join(src.top, src.sub),
		Runs:          o.Runs,
		Parallel:      o.Parallel,
		Samples:       []report.Sample{},
	}
	note := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		rep.Notes = append(rep.Notes, msg)
		if o.Progress != nil {
			o.Progress.Note("%s", msg)
		} else {
			fmt.Fprintf(logw, "grove bench: %s\n", msg)
		}
	}

	want := map[string]bool{}
	for _, sc := range o.Scenarios {
		want[sc] = true
	}
	if want[NextCommit] && src.from == "" && !o.NextEdit {
		note("next-commit skipped: %s has a single commit (pass --from REV, or --next-edit for a synthetic second commit)", rep.Repo)
		delete(want, NextCommit)
	}

	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	ws, err := newWorkspace(ctx, o.Out, src)
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := ws.remove(); rerr != nil {
			fmt.Fprintf(logw, "grove bench: cleaning up: %v\n", rerr)
		}
	}()

	env := baseEnv(os.Environ())
	probe, err := ws.addTree(ctx, "probe", src.to)
	if err != nil {
		return nil, err
	}
	rep.Host = hostInfo(ctx, probe, env, o.GroveVersion)
	needEdit := want[Edit] || want[EditLoop] || want[Parallel] || (want[NextCommit] && o.NextEdit && o.From == "")
	var editFile string
	if needEdit {
		if editFile, err = pickEditFile(ctx, probe, env); err != nil {
			_ = ws.removeTree(ctx, probe)
			return nil, err
		}
		rep.EditFile = cleanRel(src.sub, editFile)
	}
	if err := ws.removeTree(ctx, probe); err != nil {
		return nil, err
	}
	if want[NextCommit] && o.NextEdit && o.From == "" {
		to, err := syntheticCommit(ctx, ws, src.to, editFile)
		if err != nil {
			return nil, fmt.Errorf("making the --next-edit commit: %w", err)
		}
		src.from, src.to = src.to, to
		note("next-commit: synthetic commit %s edits %s on top of %s", short(to), rep.EditFile, short(src.from))
	}
	if want[NextCommit] {
		rep.From = src.from
	}
	rep.To = src.to
	for _, sc := range ScenarioNames() {
		if want[sc] {
			rep.Scenarios = append(rep.Scenarios, Rows(sc)...)
		}
	}

	var s3 *s3Server
	if slices.Contains(o.Strategies, GroveRemote) || slices.Contains(o.Strategies, SccacheRemote) {
		var why string
		if s3, why = startRemote(ctx, o.MinIO, filepath.Join(ws.root, "s3")); s3 != nil {
			s3.latency = o.RemoteLatency
			defer s3.stop()
		} else {
			note("no remote for grove-remote and sccache-remote: %s", why)
		}
	}
	makers, infos := availableStrategies(ctx, o, ws, s3)
	rep.Strategies = infos
	for _, in := range infos {
		if in.Skipped {
			note("%s skipped: %s", in.Name, in.Note)
		}
	}
	if len(makers) == 0 {
		return nil, errors.New("no strategy can run here")
	}

	// Round r starts with strategy r-1 (mod n): every strategy takes every
	// position as often as possible, so drift in machine speed and the
	// order itself spread evenly.
	for run := 1; run <= o.Runs; run++ {
		for k := range makers {
			m := makers[(k+run-1)%len(makers)]
			s := &session{
				ws: ws, st: m.make(run), name: m.name, run: run, opts: &o,
				from: src.from, to: src.to, editFile: editFile, env: env,
			}
			samples, err := s.runAll(ctx, want)
			rep.Samples = append(rep.Samples, samples...)
			if err != nil {
				return finish(rep, o), err
			}
		}
	}
	return finish(rep, o), nil
}

func finish(rep *report.Report, o Options) *report.Report {
	rep.Finished = time.Now().UTC()
	var names []string
	for _, s := range rep.Strategies {
		if !s.Skipped {
			names = append(names, s.Name)
		}
	}
	rep.Summaries = report.Summarize(rep.Samples, rep.Scenarios, names)
	if n := loadNote(rep.Samples, rep.Host.CPUs); n != "" {
		rep.Notes = append(rep.Notes, n)
	}
	return rep
}

// maker creates a fresh strategy value for a session of round run.
type maker struct {
	name string
	make func(run int) strategy
}

// startRemote starts the bench's S3 server (MinIO: bin, else minio on
// PATH) under dir, or says why not.
func startRemote(ctx context.Context, bin, dir string) (*s3Server, string) {
	if bin == "" {
		p, err := exec.LookPath("minio")
		if err != nil {
			return nil, "minio is not on PATH (pass --minio BIN)"
		}
		bin = p
	}
	srv, err := startS3(ctx, bin, dir)
	if err != nil {
		return nil, err.Error()
	}
	return srv, ""
}

// availableStrategies returns makers for the requested strategies that can
// run here, and for every requested one whether it runs and why not. s3 is
// the bench's remote, nil if it could not start.
func availableStrategies(ctx context.Context, o Options, ws *workspace, s3 *s3Server) ([]maker, []report.Strategy) {
	var makers []maker
	var infos []report.Strategy
	for _, name := range o.Strategies {
		info := report.Strategy{Name: name}
		var mk func(int) strategy
		link := func(run int) remoteLink { return remoteLink{srv: s3, prefix: sessionPrefix(name, run)} }
		switch name {
		case Plain:
			mk = func(int) strategy { return &plainStrategy{} }
		case Shared:
			mk = func(int) strategy { return &sharedStrategy{} }
		case Sccache, SccacheRemote:
			bin, err := exec.LookPath("sccache")
			switch {
			case err != nil:
				info.Note = "sccache is not installed (not on PATH)"
			case name == Sccache:
				mk = func(int) strategy { return &sccacheStrategy{bin: bin} }
			case s3 == nil:
				info.Note = "no remote (see the note above)"
			default:
				if why := sccacheS3Probe(ctx, bin, s3, filepath.Join(ws.root, "sccache-probe")); why != "" {
					info.Note = why
					break
				}
				mk = func(run int) strategy {
					l := link(run)
					return &sccacheRemoteStrategy{sccacheStrategy: sccacheStrategy{bin: bin, remote: sccacheRemoteVars(l)}, link: l}
				}
			}
		case Grove, GroveSeeded, GroveRemote, GroveRemoteDown:
			switch {
			case o.Grove == "":
				info.Note = "path of the grove binary unknown"
			case name == GroveSeeded && !groveHasSeed(ctx, o.Grove):
				info.Note = "this grove has no `seed` command yet"
			case name == GroveRemote && s3 == nil:
				info.Note = "no remote (see the note above)"
			case name == GroveRemote || name == GroveRemoteDown:
				var down string
				if name == GroveRemoteDown {
					var err error
					if down, err = deadEndpoint(); err != nil {
						info.Note = err.Error()
						break
					}
				}
				mk = func(run int) strategy {
					g := &groveRemoteStrategy{groveStrategy: groveStrategy{bin: o.Grove}, down: down, shortDir: ws.shortDir}
					if down == "" {
						g.link = link(run)
					}
					return g
				}
			default:
				seed := name == GroveSeeded
				mk = func(int) strategy { return &groveStrategy{bin: o.Grove, seed: seed} }
			}
		default:
			info.Note = "unknown strategy"
		}
		info.Skipped = mk == nil
		if mk != nil {
			makers = append(makers, maker{name: name, make: mk})
		}
		infos = append(infos, info)
	}
	return makers, infos
}

// hostInfo records the machine and toolchain. The toolchain is asked in
// the probe worktree so a rust-toolchain file of the repository counts.
func hostInfo(ctx context.Context, dir string, env []string, groveVersion string) report.Host {
	ask := func(name string, args ...string) string {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.Output()
		if err != nil {
			return "unknown"
		}
		return strings.TrimSpace(string(out))
	}
	return report.Host{
		OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		Cargo: ask("cargo", "-V"), Rustc: ask("rustc", "-V"), Grove: groveVersion,
	}
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
