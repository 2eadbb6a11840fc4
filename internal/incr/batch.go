package incr

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/rustc"
)

// Localizing the members of a seeded worktree.
//
// A member grove seed copied from the donor is the donor's compile: its
// metadata and debug info name the donor's source files, and the crate
// hash (SVH) rustc gives it covers the working dir. A dependent compiled
// here against it records that hash. So the first edit of a member in
// the new tree, compiled here with this tree's paths and hash, makes
// every codegen unit of each dependent that inlines or instantiates the
// member's code compile again, however its incremental state was made: on
// the corpus 33 of the `ledger` binary's 256, +1.3 s on the first edit
// after a seed, where plain cargo recompiles none.
//
// So a seeded build dir's members are warmed as one batch (RunBatch), in
// dependency order, each compiled against the members compiled before
// it, and when all succeed their outputs replace the seeded ones, dated
// as the seeded ones were: the tree then holds what plain cargo builds
// here (this tree's paths in debug info and metadata), Cargo sees no
// change, and every member's state matches what its dependents are
// compiled against.
//
// A member compiled against one hash of a dependency fails to build
// against another ("found possibly newer version of crate", E0460), and
// Cargo, finding the dates unchanged, would not rebuild it. The rules
// that keep the two apart:
//
//   - All or none: seed localizes a build dir only when every lib
//     member in it was seeded and has a recorded compile
//     (Batch.Localize); a bin or a test is a leaf, nothing is compiled
//     against it.
//   - Only an untouched tree: the batch replaces outputs only if no
//     compile ran in the build dir since the seed or since the batch last
//     let go of Cargo's lock (stamps: the mtimes of the incremental dir,
//     its crate dirs and the output dirs, to which every compile adds a
//     file). Otherwise it only warms, putting the seeded outputs back
//     after each compile, as Run does.
//   - Until the batch is done, a compiled member's outputs are new files
//     with new dates, so everything built on it is out of date to Cargo:
//     a batch killed half-way leaves a tree that Cargo rebuilds
//     consistently. When a build waits, the batch gives way: it puts the
//     seeded outputs back, dependents first, so that no member goes back
//     to its old hash while something compiled against the new one still
//     looks fresh.

// BatchEnv, set in a grove process's environment to a batch file's path,
// makes it the batch's background process (RunBatch).
const BatchEnv = "GROVE_INTERNAL_WARM_BATCH"

// Batch is the background compiles of one build dir's seeded members.
type Batch struct {
	// Localize: the outputs of a batch that compiles in full replace
	// the seeded ones (the rule above). Otherwise each member is only
	// warmed.
	Localize bool       `json:"localize"`
	Jobs     []BatchJob `json:"jobs"`
	// Stamps are the mtimes (ns) of the dirs a compile in the build dir
	// changes, when the batch was started.
	Stamps map[string]int64 `json:"stamps"`
}

// BatchJob is one member's compile. Its environment is the batch
// process's (the seeding process's) with Command.Env and Set over it and
// Unset removed.
type BatchJob struct {
	Command
	Set   []string `json:"set,omitempty"` // NAME=value
	Unset []string `json:"unset,omitempty"`
}

// batchUnit is a job with what the batch process derives from it.
type batchUnit struct {
	job   BatchJob
	unit  Unit
	inv   *rustc.Invocation
	aside *aside
}

func (b *Batch) units() ([]*batchUnit, error) {
	var us []*batchUnit
	for _, j := range b.Jobs {
		inv := rustc.Parse(j.Rustc, j.Args)
		u, ok := For(inv, j.Cwd)
		if !ok || inv.OutDir == "" {
			return nil, fmt.Errorf("%s: not an incremental compile", inv.CrateName)
		}
		if len(us) > 0 && u.dir != us[0].unit.dir {
			return nil, fmt.Errorf("%s: another incremental dir than %s", inv.CrateName, us[0].unit.dir)
		}
		us = append(us, &batchUnit{job: j, unit: u, inv: inv})
	}
	return dependencyOrder(us), nil
}

// dependencyOrder sorts units so that each comes after the units whose
// outputs it names in --extern; otherwise in the given order.
func dependencyOrder(us []*batchUnit) []*batchUnit {
	producer := map[string]int{}
	for i, u := range us {
		names, _ := u.inv.OutputNames()
		for _, n := range names {
			producer[filepath.Join(absIn(u.job.Cwd, u.inv.OutDir), n)] = i
		}
	}
	deps := make([][]int, len(us))
	for i, u := range us {
		for _, e := range u.inv.Externs {
			if p, ok := producer[absIn(u.job.Cwd, e.Path)]; ok && p != i {
				deps[i] = append(deps[i], p)
			}
		}
	}
	done := make([]bool, len(us))
	var out []*batchUnit
	var visit func(i int, depth int)
	visit = func(i, depth int) {
		if done[i] || depth > len(us) { // depth: a cycle is no dependency order
			return
		}
		for _, d := range deps[i] {
			visit(d, depth+1)
		}
		if !done[i] {
			done[i] = true
			out = append(out, us[i])
		}
	}
	for i := range us {
		visit(i, 0)
	}
	return out
}

func absIn(cwd, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(cwd, p)
}

// StartBatch has b run in the background once the running build is over
// (RunBatch): self (the grove executable) with env (minus Cargo's
// jobserver), which the members' compiles get. It returns at once.
func StartBatch(b *Batch, self string, env []string) error {
	us, err := b.units()
	if err != nil || len(us) == 0 {
		return err
	}
	u0 := us[0].unit
	if _, err := os.Stat(filepath.Dir(u0.cargoLock())); err != nil {
		return fmt.Errorf("no build dir for %s: %w", u0.dir, err)
	}
	// Everything the batch process creates in the build dir before it
	// holds Cargo's lock is made here, before the stamps are taken.
	if err := touch(u0.cargoLock()); err != nil {
		return err
	}
	if err := touch(u0.queuePath()); err != nil {
		return err
	}
	for _, bu := range us {
		if err := touch(bu.unit.pendingPath()); err != nil {
			return err
		}
		if err := touch(bu.unit.markPath()); err != nil {
			return err
		}
	}
	b.Stamps = stamps(us)
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	// Beside the incremental dir, not in it: the dirs stamped must not
	// change when the batch process reads and removes it.
	file := filepath.Join(filepath.Dir(u0.dir), fmt.Sprintf("%sbatch-%d.json", prefix, time.Now().UnixNano()))
	if err := atomicfile.Write(file, data, 0o600); err != nil {
		return err
	}
	cmd := exec.Command(self, us[0].job.Rustc)
	for _, kv := range env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", Env, BatchEnv:
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, BatchEnv+"="+file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		os.Remove(file)
		for _, bu := range us {
			os.Remove(bu.unit.pendingPath())
		}
		return err
	}
	return cmd.Process.Release()
}

// stamps are the mtimes of the dirs every compile of a member changes:
// the incremental dir and its crate dirs (rustc adds a session dir) and
// the output dirs (rustc writes its outputs).
func stamps(us []*batchUnit) map[string]int64 {
	dirs := []string{us[0].unit.dir}
	ents, _ := os.ReadDir(us[0].unit.dir)
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") { // rustc's crate dirs, not grove's
			dirs = append(dirs, filepath.Join(us[0].unit.dir, e.Name()))
		}
	}
	for _, bu := range us {
		dirs = append(dirs, absIn(bu.job.Cwd, bu.inv.OutDir))
	}
	m := map[string]int64{}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			m[d] = fi.ModTime().UnixNano()
		}
	}
	return m
}

func sameStamps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// RunBatch is the process StartBatch starts: it waits for the build to
// end and compiles the batch's members as Run compiles one, in
// dependency order, under the same locks; a build that starts meanwhile
// goes first. Localized (see the rule above), committed is called for
// each member whose outputs now are the batch's. It always returns 0:
// nobody reads its status.
func RunBatch(file, queue string, logf func(format string, args ...any), committed func(inv *rustc.Invocation, cwd string)) int {
	os.Unsetenv(BatchEnv)
	data, err := os.ReadFile(file)
	os.Remove(file)
	if err != nil {
		return 0
	}
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		logf("warm batch %s: %v", file, err)
		return 0
	}
	us, err := b.units()
	if err != nil || len(us) == 0 {
		if err != nil {
			logf("warm batch: %v", err)
		}
		return 0
	}
	u0 := us[0].unit
	defer func() {
		for _, bu := range us {
			os.Remove(bu.unit.pendingPath())
		}
	}()
	t, ok := waitTurn(u0, queue, logf)
	if !ok {
		return 0
	}
	defer t.close()
	localize := b.Localize
	for {
		if !t.take() {
			return 0
		}
		if localize && !sameStamps(b.Stamps, stamps(us)) {
			logf("warm batch: a build compiled in %s since the seed: members only warmed, the seeded outputs kept", filepath.Dir(u0.dir))
			localize = false
		}
		start := time.Now()
		var done bool
		var cpu time.Duration
		if localize {
			done, cpu = runLocalizing(us, t.buildWaiting, logf, committed)
		} else {
			done, cpu = runWarming(us, t.buildWaiting, logf)
		}
		if done {
			logf("warm batch of %d members in %s: done in %.1f s (CPU %.1f s)", len(us), filepath.Dir(u0.dir), time.Since(start).Seconds(), cpu.Seconds())
			return 0
		}
		b.Stamps = stamps(us) // what this process left, under Cargo's lock
		logf("warm batch: a build is waiting; it goes first (stopped after %.1f s), warming resumes after it", time.Since(start).Seconds())
		t.yield()
	}
}

// runWarming compiles each member still pending with its outputs put
// back after it. done is false when a build is waiting.
func runWarming(us []*batchUnit, cancel func() bool, logf func(string, ...any)) (done bool, cpu time.Duration) {
	for _, bu := range us {
		if _, err := os.Stat(bu.unit.pendingPath()); err != nil {
			continue // compiled by a build meanwhile
		}
		if cancel() {
			return false, cpu
		}
		a, ok := keepAside(bu.unit, bu.inv, bu.job.Cwd)
		if !ok {
			os.Remove(bu.unit.pendingPath())
			continue
		}
		finished, failed, c := run(bu.command(), cancel)
		cpu += c
		a.putBack(!finished)
		if !finished {
			return false, cpu
		}
		os.Remove(bu.unit.pendingPath())
		if failed {
			os.Remove(bu.unit.markPath())
			logf("warm %s: rustc failed: no state made", bu.unit.name)
		}
	}
	return true, cpu
}

// runLocalizing compiles every member, each against the ones before it,
// and keeps the outputs if all succeed (the rule above). done is false
// when a build is waiting; then the seeded outputs are back.
func runLocalizing(us []*batchUnit, cancel func() bool, logf func(string, ...any), committed func(*rustc.Invocation, string)) (done bool, cpu time.Duration) {
	rollback := func(upTo int, stopped bool) {
		for i := upTo; i >= 0; i-- { // dependents first
			if a := us[i].aside; a != nil {
				a.putBack(stopped && i == upTo)
				us[i].aside = nil
			}
		}
	}
	for i, bu := range us {
		if cancel() {
			rollback(i-1, false)
			return false, cpu
		}
		a, ok := keepAside(bu.unit, bu.inv, bu.job.Cwd)
		if !ok {
			rollback(i-1, false)
			return giveUp(us, logf, bu.unit.name+": outputs not kept aside"), cpu
		}
		bu.aside = a
		finished, failed, c := run(bu.command(), cancel)
		cpu += c
		if !finished {
			rollback(i, true)
			return false, cpu
		}
		if failed {
			rollback(i, false)
			return giveUp(us, logf, bu.unit.name+": rustc failed"), cpu
		}
	}
	for _, bu := range us {
		if !bu.aside.complete() {
			rollback(len(us)-1, false)
			return giveUp(us, logf, bu.unit.name+": an output is missing"), cpu
		}
	}
	for _, bu := range us {
		// Every output in place is now this batch's; one that keeps
		// its new date (an error here) only makes Cargo compile what
		// is built on it again.
		if err := bu.aside.keep(); err != nil {
			logf("warm batch: %s: %v", bu.unit.name, err)
		}
		bu.aside = nil
		if committed != nil {
			committed(bu.inv, bu.job.Cwd)
		}
	}
	for _, bu := range us {
		os.Remove(bu.unit.pendingPath())
	}
	logf("warm batch: %d members compiled here replace the seeded ones", len(us))
	return true, cpu
}

// giveUp ends a batch that cannot complete: the members keep their
// seeded outputs and have no state (their marks go), as without warming.
func giveUp(us []*batchUnit, logf func(string, ...any), why string) bool {
	for _, bu := range us {
		os.Remove(bu.unit.pendingPath())
		os.Remove(bu.unit.markPath())
	}
	logf("warm batch: %s; members not warmed", why)
	return true
}

// command is the member's compile with its environment.
func (bu *batchUnit) command() *exec.Cmd {
	cmd := exec.Command(bu.inv.Rustc, bu.inv.Args...)
	cmd.Dir = bu.job.Cwd
	over := map[string]bool{}
	for _, kv := range append(append([]string{}, bu.job.Env...), bu.job.Set...) {
		k, _, _ := strings.Cut(kv, "=")
		over[k] = true
	}
	for _, k := range bu.job.Unset {
		over[k] = true
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !over[k] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for _, kv := range append(append([]string{}, bu.job.Env...), bu.job.Set...) {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(bu.job.Unset, k) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}
