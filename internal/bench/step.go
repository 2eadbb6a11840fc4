package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/grove-rs/grove/internal/bench/measure"
	"github.com/grove-rs/grove/internal/bench/report"
	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/du"
)

// step builds trees at once (one tree, or the parallel scenario's N),
// measuring them together. Unrecorded steps are setup for a later
// scenario. fresh says the trees are new, so the strategy's prepare
// command (seeding) runs first, inside the measurement.
func (s *session) step(ctx context.Context, scenario string, record bool, trees []string, fresh bool) error {
	label := scenario
	if !record {
		label += " (setup)"
	}
	if p := s.opts.Progress; p != nil {
		p.Step(label, s.name, s.run, s.opts.Runs)
	}
	// The strategy's background work on earlier trees (grove's
	// incremental warm-up) ends first: it would be measured as this
	// step's load otherwise.
	for _, t := range s.trees {
		if err := s.st.idle(ctx, t); err != nil {
			return err
		}
	}
	smp := s.measureBuilds(ctx, trees, fresh)
	smp.Scenario, smp.Strategy, smp.Run = scenario, s.name, s.run
	if smp.Remote != nil {
		switch scenario {
		case Cold:
			s.filled = smp.Remote.UpBytes
		case OtherMachine:
			smp.Remote.FilledBytes = s.filled
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if smp.Error == "" {
		for _, t := range trees {
			if !slices.Contains(s.built, t) {
				s.built = append(s.built, t)
			}
		}
		bytes, err := diskBytes(ctx, s.outputDirs())
		if err != nil {
			smp.Error = "measuring disk use: " + err.Error()
		}
		smp.DiskBytes, smp.Worktrees = bytes, len(s.built)
	}
	if p := s.opts.Progress; p != nil {
		p.Done(stepResult(smp))
	}
	switch {
	case record:
		s.samples = append(s.samples, smp)
	case smp.Error != "":
		// Nothing asked for this build: its failure becomes the error of
		// every scenario of the session that had no sample yet.
		return fmt.Errorf("not run: the build before it (%s) failed: %s", label, smp.Error)
	}
	if smp.Error != "" {
		return errStepFailed
	}
	return nil
}

// measureBuilds runs prepare (if fresh) and cargo build in every tree
// concurrently and sums what they cost. Wall time is until the last one
// ends; the peak RSS is the largest single process.
func (s *session) measureBuilds(ctx context.Context, trees []string, fresh bool) report.Sample {
	hooks, _ := s.st.(stepHooks)
	if hooks != nil {
		if err := hooks.begin(ctx); err != nil {
			return report.Sample{Error: err.Error()}
		}
	}
	ru, _ := s.st.(remoteUser)
	var up0, down0 int64
	if ru != nil {
		up0, down0 = ru.moved()
	}
	before := s.st.counters(ctx)
	cpu0, _ := s.st.outside()
	busy0, busyErr := measure.MachineBusy()

	type result struct {
		cost  measure.Cost
		units measure.Units
		err   error
	}
	results := make([]result, len(trees))
	start := time.Now()
	var wg sync.WaitGroup
	for i, t := range trees {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			if fresh {
				if c := s.st.prepare(t); c != nil {
					out, err := measure.Run(ctx, *c)
					r.cost.Add(out.Cost)
					if err != nil {
						r.err = fmt.Errorf("preparing worktree: %w", err)
						return
					}
				}
			}
			env := measure.Env(s.env, s.st.env(t))
			locked := exists(filepath.Join(t, "Cargo.lock"))
			out, err := measure.Run(ctx, measure.Command{Dir: t, Env: env, Args: measure.CargoBuildArgs(locked)})
			r.cost.Add(out.Cost)
			r.units = measure.ParseUnits(out.Stdout)
			r.err = err
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	var hookErr error
	if hooks != nil {
		hookErr = hooks.end(ctx) // outside the wall time: the build did not wait for it
	}

	busy1, busyErr1 := measure.MachineBusy()
	cpu1, rss := s.st.outside()
	after := s.st.counters(ctx)
	var cost measure.Cost
	var units measure.Units
	var errs []error
	for _, r := range results {
		cost.Add(r.cost)
		units.Add(r.units)
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if hookErr != nil {
		errs = append(errs, hookErr)
	}
	smp := report.Sample{
		WallSeconds:   wall.Seconds(),
		UserSeconds:   cost.User.Seconds(),
		SysSeconds:    cost.Sys.Seconds(),
		CPUSeconds:    (cost.CPU() + max(0, cpu1-cpu0)).Seconds(),
		PeakRSSBytes:  max(cost.MaxRSS, rss),
		UnitsCompiled: units.Compiled,
		UnitsFresh:    units.Fresh,
		Rustc:         units.Compiled,
	}
	if busyErr == nil && busyErr1 == nil {
		smp.OtherCPUSeconds = max(0, (busy1-busy0).Seconds()-smp.CPUSeconds)
	}
	if before != nil && after != nil {
		c := report.Cache{
			Hits:        after.Hits - before.Hits,
			Misses:      after.Misses - before.Misses,
			Uncacheable: after.Uncacheable - before.Uncacheable,
		}
		if after.Remote != nil {
			c.Remote = map[string]int{}
			for k, n := range after.Remote {
				if d := n - before.Remote[k]; d != 0 {
					c.Remote[k] = d
				}
			}
		}
		c.HitMedianMs, c.RemoteHitMedianMs = after.HitMedianMs, after.RemoteHitMedianMs
		c.RunsReplayed, c.RunsRun = after.RunsReplayed-before.RunsReplayed, after.RunsRun-before.RunsRun
		for k, n := range after.RunsRemote {
			if d := n - before.RunsRemote[k]; d != 0 {
				if c.RunsRemote == nil {
					c.RunsRemote = map[string]int{}
				}
				c.RunsRemote[k] = d
			}
		}
		smp.Cache = &c
		smp.Rustc = max(0, units.Compiled-c.Hits)
	}
	if ru != nil {
		up1, down1 := ru.moved()
		smp.Remote = &report.Remote{UpBytes: up1 - up0, DownBytes: down1 - down0}
	}
	if err := errors.Join(errs...); err != nil {
		smp.Error = err.Error()
	}
	return smp
}

// diskSample records the disk scenario: no build, just bytes.
func (s *session) diskSample(ctx context.Context) error {
	if p := s.opts.Progress; p != nil {
		p.Step(Disk, s.name, s.run, s.opts.Runs)
	}
	smp := report.Sample{Scenario: Disk, Strategy: s.name, Run: s.run, Worktrees: len(s.built)}
	b, err := diskBytes(ctx, s.outputDirs())
	smp.DiskBytes = b
	if err != nil {
		smp.Error = "measuring disk use: " + err.Error()
	}
	if p := s.opts.Progress; p != nil {
		p.Done(stepResult(smp))
	}
	s.samples = append(s.samples, smp)
	return ctx.Err()
}

// outputDirs are where the session's build outputs live: each built
// worktree's target dir and the strategy's stores.
func (s *session) outputDirs() []string {
	var dirs []string
	for _, t := range s.built {
		dirs = append(dirs, filepath.Join(t, "target"))
	}
	return append(dirs, s.st.stores()...)
}

// stepResult is the progress line's summary of a finished step.
func stepResult(smp report.Sample) string {
	if smp.Error != "" {
		msg := smp.Error
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return "FAILED: " + msg
	}
	if smp.Scenario == Disk && smp.WallSeconds == 0 {
		return fmt.Sprintf("%s in %d worktrees", cli.HumanBytes(smp.DiskBytes), smp.Worktrees)
	}
	return fmt.Sprintf("%s, %d units compiled, %d fresh, rustc %d", report.Seconds(smp.WallSeconds), smp.UnitsCompiled, smp.UnitsFresh, smp.Rustc)
}

// diskBytes is the disk space dirs take, each inode counted once across
// all of them: strategies that share files between worktrees (hardlinks
// into a store, one shared target dir) cost what they cost on disk.
func diskBytes(ctx context.Context, dirs []string) (int64, error) {
	res, err := du.Usage(ctx, dirs, du.Options{})
	return res.Total, err
}
