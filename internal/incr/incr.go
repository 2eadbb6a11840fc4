// Package incr gives a workspace member that grove restored from the store
// the incremental state a compile in this tree would have left, so that
// the first edit after a restore is an incremental compile, as with plain
// cargo, not one from scratch.
//
// # Why the state cannot come from another worktree
//
// rustc keeps a unit's state in `<-C incremental dir>/<crate>-<stable crate
// id>/s-<session>/`; the stable crate id hashes the crate name, whether it
// is an executable, and every `-C metadata`, not the path. When it loads a
// session it compares a hash of the command line's tracked options, and the
// working directory is one of them: a session made in another directory is
// discarded whole ("completely ignoring cache because of differing
// commandline arguments" under -Z incremental-info; checked with rustc
// 1.95, the same sources and arguments in two directories). Cargo runs a
// workspace member's rustc in the workspace root, which differs per
// worktree, so another worktree's state is never reused, and it must not
// be: its object code embeds that tree's paths (debug info, file!(),
// panic locations), which rustc would copy into this tree's outputs. The
// paths of the incremental and output dirs are not tracked: state made
// with another --out-dir in the same working directory is reused.
//
// # What this package does
//
// rustc also tracks its output file names: state made with another
// --out-dir is loaded, but every codegen unit is compiled again (checked
// with rustc 1.95). So the state has to come from the unit's very compile
// in this tree. After a hit of a unit Cargo compiles with `-C incremental=`
// (Start), grove runs that compile once more in the background, as given,
// at the lowest CPU priority, once the build is over: it takes Cargo's own
// lock on the build dir (`.cargo-lock` beside `incremental/`), so no build
// of this tree runs meanwhile, and a build started meanwhile waits for it
// ("Blocking waiting for file lock") and then starts from its state. The
// outputs the build left are kept aside as hard links and unlinked (so
// rustc cannot write into a store blob), and put back by rename after the
// compile, with their inodes and mtimes: what Cargo sees of the tree is
// unchanged, only the incremental dir has gained rustc's state. A compile
// of the unit that runs first (Mark) cancels the pending one.
//
// A build never waits for a whole background compile: one that blocks on
// Cargo's lock meanwhile is seen in /proc/locks, and the background
// compile stops (its process group is killed), puts the outputs back,
// releases the lock and waits for the build to end before it tries again
// (Run). The build then costs what it costs without warming.
//
// # Why it is safe
//
// Incremental state is rustc's cache: rustc re-hashes every input of every
// query it would reuse (the source files, the dependencies' metadata, the
// tracked options) and recomputes what changed, so state that does not
// match the sources costs reuse, never correctness, the same as with plain
// cargo after a branch switch. The state is made in this tree, at this
// tree's paths, by the compile plain cargo runs here: no path of another
// tree can reach it. A background compile killed half-way leaves outputs
// missing, which Cargo rebuilds (a hit).
package incr

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/rustc"
)

// Env, set in a grove process's environment, makes it the background
// compile (Run) rather than the wrapper.
const Env = "GROVE_INTERNAL_WARM"

const prefix = ".grove-warm-"

// Unit is one compilation unit's place in the incremental dir. grove's
// files there start with ".grove-warm-": rustc only reads `<crate>-<id>/`
// dirs, and `cargo clean -p` only removes those.
type Unit struct {
	dir   string // the -C incremental dir, absolute
	crate string
	name  string // crate name and -C extra-filename: one unit of this target dir
}

// For returns the unit of inv, run in cwd; ok is false when Cargo does not
// compile it incrementally.
func For(inv *rustc.Invocation, cwd string) (u Unit, ok bool) {
	if inv.Incremental == "" || inv.CrateName == "" {
		return Unit{}, false
	}
	dir := inv.Incremental
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(cwd, dir)
	}
	return Unit{dir: dir, crate: inv.CrateName, name: inv.CrateName + inv.ExtraFilename}, true
}

func (u Unit) markPath() string    { return filepath.Join(u.dir, prefix+u.name) }
func (u Unit) pendingPath() string { return filepath.Join(u.dir, prefix+u.name+".pending") }
func (u Unit) lockPath() string    { return filepath.Join(u.dir, prefix+u.name+".lock") }
func (u Unit) savedPath() string   { return filepath.Join(u.dir, prefix+u.name+".saved") }

// queuePath is the lock the background compiles of one build dir take
// in turn, before Cargo's.
func (u Unit) queuePath() string { return filepath.Join(u.dir, prefix+"queue.lock") }

// cargoLock is the file Cargo locks while it builds in this build dir.
func (u Unit) cargoLock() string { return filepath.Join(filepath.Dir(u.dir), ".cargo-lock") }

// Have reports whether this tree has rustc's state for the unit, or a
// background compile will make it: a compile here marked it (Mark, Start)
// and a crate dir of its name is there (`cargo clean -p` removes those).
func (u Unit) Have() bool {
	if _, err := os.Stat(u.markPath()); err != nil {
		return false
	}
	if _, err := os.Stat(u.pendingPath()); err == nil {
		return true
	}
	dirs, _ := filepath.Glob(filepath.Join(u.dir, u.crate+"-*"))
	return len(dirs) > 0
}

// Mark records that a compile in this tree is making state for the unit,
// and cancels a pending background compile of it.
func (u Unit) Mark() error {
	if err := touch(u.markPath()); err != nil {
		return err
	}
	if err := os.Remove(u.pendingPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func touch(p string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// Start has the unit's compile run again in the background once the
// running build is over: self (the grove executable) with rustcPath and
// args, in cwd, with env minus Cargo's jobserver. It returns at once.
func Start(u Unit, self, rustcPath string, args []string, cwd string, env []string) error {
	// Cargo makes its lock file the first time it builds a dir; a dir grove
	// seed filled may not have it yet, and Cargo opens one that is there.
	if _, err := os.Stat(filepath.Dir(u.cargoLock())); err != nil {
		return fmt.Errorf("no build dir for %s: %w", u.dir, err)
	}
	if f, err := os.OpenFile(u.cargoLock(), os.O_CREATE|os.O_RDONLY, 0o666); err != nil {
		return err
	} else {
		f.Close()
	}
	if err := touch(u.pendingPath()); err != nil {
		return err
	}
	if err := touch(u.markPath()); err != nil {
		return err
	}
	cmd := exec.Command(self, append([]string{rustcPath}, args...)...)
	cmd.Dir = cwd
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS", Env:
			// Cargo's jobserver is gone once this build ends.
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, Env+"=1")
	// No stdout or stderr: Cargo reads the wrapper's until they close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		os.Remove(u.pendingPath())
		return err
	}
	return cmd.Process.Release()
}

// Job is a background compile of one unit, not started yet.
type Job struct {
	Unit Unit
	Command
	Env []string
}

// JobFor returns the job that compiles c with env; ok is false unless c
// is a unit Cargo compiles incrementally whose output dir and
// incremental dir both lie in buildDir.
func JobFor(c Command, env []string, buildDir string) (Job, bool) {
	inv := rustc.Parse(c.Rustc, c.Args)
	u, ok := For(inv, c.Cwd)
	if !ok || inv.OutDir == "" {
		return Job{}, false
	}
	out := inv.OutDir
	if !filepath.IsAbs(out) {
		out = filepath.Join(c.Cwd, out)
	}
	if !underAny(filepath.Clean(out), []string{buildDir}) || !underAny(filepath.Clean(u.dir), []string{buildDir}) {
		return Job{}, false
	}
	return Job{Unit: u, Command: c, Env: env}, true
}

// Start starts the job (see Start), and records its command for later
// seeds from this tree.
func (j Job) Start(self string) error {
	if err := j.Unit.SaveCommand(j.Command); err != nil {
		return err
	}
	return Start(j.Unit, self, j.Rustc, j.Args, j.Cwd, j.Env)
}

// Run is the background process Start starts: it waits for the build to
// end, then compiles the unit as Cargo did, with the outputs Cargo saw
// kept aside and put back. A build of this tree that starts meanwhile
// goes first (see yield). One background compile runs at a time per
// user: it holds the lock file queue (the store's, in grove) while it
// compiles, so that twenty new worktrees do not start twenty rustc at
// once; "" means no such lock. logf reports what it did (GROVE_LOG). It
// always returns 0: nobody reads its status.
func Run(rustcPath string, args []string, queue string, logf func(format string, args ...any)) int {
	os.Unsetenv(Env)
	inv := rustc.Parse(rustcPath, args)
	cwd, err := os.Getwd()
	if err != nil {
		return 0
	}
	u, ok := For(inv, cwd)
	if !ok || inv.OutDir == "" {
		return 0
	}
	ul, err := os.OpenFile(u.lockPath(), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return 0
	}
	defer ul.Close()
	if unix.Flock(int(ul.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return 0 // another one compiles this unit
	}
	t, ok := waitTurn(u, queue, logf)
	if !ok {
		return 0
	}
	defer t.close()
	for {
		if !t.take() {
			return 0
		}
		if _, err := os.Stat(u.pendingPath()); err != nil {
			return 0 // a compile made the state meanwhile; unlocked by Close
		}
		start := time.Now()
		done, failed, cpu := false, false, time.Duration(0)
		if !t.buildWaiting() {
			done, failed, cpu = compileKeeping(u, inv, cwd, t.buildWaiting)
		}
		if done {
			os.Remove(u.pendingPath())
			if failed {
				// The next build compiles the unit from scratch, as
				// without warming; a hit after it warms again (the
				// failed session's dir must not count as state: Have).
				os.Remove(u.markPath())
				logf("warm %s: rustc failed after %.1f s (CPU %.1f s): no state made", u.name, time.Since(start).Seconds(), cpu.Seconds())
			} else {
				logf("warm %s: incremental state made in %.1f s (CPU %.1f s)", u.name, time.Since(start).Seconds(), cpu.Seconds())
			}
			return 0
		}
		logf("warm %s: a build is waiting; it goes first (stopped after %.1f s, CPU %.1f s), warming resumes after it", u.name, time.Since(start).Seconds(), cpu.Seconds())
		t.yield()
	}
}

// turn is a background compile's hold on its build dir: the dir's queue
// (one background compile of a build dir runs or waits at a time, so any
// other process waiting on Cargo's lock is a build), Cargo's lock, and
// the user's queue (one background compile per user).
type turn struct {
	queue, cargo, user *os.File
}

// waitTurn waits for the build dir's queue of u and opens Cargo's lock
// and the user's queue userQueue ("" for none); ok is false when there is
// no build dir to compile in.
func waitTurn(u Unit, userQueue string, logf func(format string, args ...any)) (t *turn, ok bool) {
	q, err := os.OpenFile(u.queuePath(), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false
	}
	if unix.Flock(int(q.Fd()), unix.LOCK_EX) != nil {
		q.Close()
		return nil, false
	}
	c, err := os.OpenFile(u.cargoLock(), os.O_RDWR, 0)
	if err != nil {
		q.Close()
		return nil, false
	}
	t = &turn{queue: q, cargo: c}
	if userQueue != "" {
		if t.user, err = os.OpenFile(userQueue, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
			logf("warm %s: %v (not queued)", u.name, err)
			t.user = nil
		}
	}
	return t, true
}

// take waits for the user's queue, then for Cargo's lock (held while any
// build of the dir runs): holding Cargo's lock while waiting in the queue
// would block a build behind another tree's background compile.
func (t *turn) take() bool {
	if t.user != nil && unix.Flock(int(t.user.Fd()), unix.LOCK_EX) != nil {
		return false
	}
	return unix.Flock(int(t.cargo.Fd()), unix.LOCK_EX) == nil
}

// yield lets go of Cargo's lock and the user's queue, and gives the
// build that waits time to take the lock before take asks again.
func (t *turn) yield() {
	_ = unix.Flock(int(t.cargo.Fd()), unix.LOCK_UN)
	if t.user != nil {
		_ = unix.Flock(int(t.user.Fd()), unix.LOCK_UN)
	}
	time.Sleep(yieldPause)
}

// buildWaiting reports whether a build waits for Cargo's lock.
func (t *turn) buildWaiting() bool { return buildWaiting(t.cargo) }

func (t *turn) close() {
	for _, f := range []*os.File{t.cargo, t.user, t.queue} {
		if f != nil {
			f.Close()
		}
	}
}

// yieldPause is how long a background compile that gave way to a build
// lets it take Cargo's lock before it waits for the lock again.
const yieldPause = time.Second

// pollEvery is how often a running background compile asks whether a
// build waits for Cargo's lock: the most a build waits for it.
const pollEvery = 50 * time.Millisecond

// buildWaiting reports whether a process is blocked on lock's flock: a
// cargo of this build dir waiting for the background compile (other
// background compiles wait on the queue lock instead). Linux lists
// blocked flock requests in /proc/locks ("->" lines); elsewhere it is
// false and a build waits until the background compile ends.
func buildWaiting(lock *os.File) bool {
	var st unix.Stat_t
	if unix.Fstat(int(lock.Fd()), &st) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return false
	}
	return waiterIn(string(b), uint64(unix.Major(uint64(st.Dev))), uint64(unix.Minor(uint64(st.Dev))), st.Ino)
}

// waiterIn reports whether the /proc/locks text locks holds a blocked
// flock request on the inode ino of device major:minor. A line is
// "N: -> FLOCK ADVISORY WRITE PID MAJ:MIN:INODE START END", the device
// numbers in hex.
func waiterIn(locks string, major, minor, ino uint64) bool {
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, ino)
	for _, line := range strings.Split(locks, "\n") {
		f := strings.Fields(line)
		if len(f) >= 7 && f[1] == "->" && f[2] == "FLOCK" && f[6] == want {
			return true
		}
	}
	return false
}

// compileKeeping runs the compile with the unit's outputs kept aside
// (keepAside) and put back afterwards: rustc replaces them, and the ones
// Cargo saw come back with their inodes and mtimes. It stops the compile
// (rustc and the linker it runs) when cancel reports true, and then
// returns false; failed says rustc ran to an error.
func compileKeeping(u Unit, inv *rustc.Invocation, cwd string, cancel func() bool) (finished, failed bool, cpu time.Duration) {
	a, ok := keepAside(u, inv, cwd)
	if !ok {
		return true, false, 0
	}
	finished, failed, cpu = run(exec.Command(inv.Rustc, inv.Args...), cancel)
	a.putBack(!finished)
	return finished, failed, cpu
}

// aside is one unit's outputs as Cargo saw them, kept as hard links in
// the unit's saved dir while a background compile writes new ones.
type aside struct {
	unit          Unit
	outDir, saved string
	names         []string               // outputs and dep-info
	kept          map[string]os.FileInfo // the ones that were there
}

// keepAside links the unit's outputs into its saved dir and unlinks them,
// so that no write of rustc's can reach the kept inode, which may be a
// store blob. ok is false when there is nothing to compile (no output
// names) or the outputs could not be kept; then they are where they were.
func keepAside(u Unit, inv *rustc.Invocation, cwd string) (a *aside, ok bool) {
	outDir := inv.OutDir
	if !filepath.IsAbs(outDir) {
		outDir = filepath.Join(cwd, outDir)
	}
	names, err := inv.OutputNames()
	if err != nil {
		return nil, false
	}
	a = &aside{unit: u, outDir: outDir, saved: u.savedPath(), names: append(names, inv.DepInfoName()), kept: map[string]os.FileInfo{}}
	if os.RemoveAll(a.saved) != nil || os.Mkdir(a.saved, 0o755) != nil {
		return nil, false
	}
	for _, n := range a.names {
		out := filepath.Join(outDir, n)
		fi, err := os.Lstat(out)
		if err != nil {
			continue
		}
		if err := os.Link(out, filepath.Join(a.saved, n)); err != nil {
			a.restoreKept()
			return nil, false
		}
		a.kept[n] = fi
	}
	for n := range a.kept {
		if err := unix.Unlink(filepath.Join(outDir, n)); err != nil && !errors.Is(err, unix.ENOENT) {
			a.restoreKept()
			return nil, false
		}
	}
	return a, true
}

// putBack renames the kept outputs over whatever the compile left at
// their names and removes the outputs that were not there before. stopped
// says rustc was killed: the objects of its codegen units are removed too
// (its incremental session dir rustc itself removes next time; its lock
// is free).
func (a *aside) putBack(stopped bool) {
	for _, n := range a.names {
		if a.kept[n] == nil {
			os.Remove(filepath.Join(a.outDir, n)) // not there before: not there after
		}
	}
	a.restoreKept()
	if stopped {
		leftovers, _ := filepath.Glob(filepath.Join(a.outDir, a.unit.name+".*.rcgu.o"))
		for _, l := range leftovers {
			os.Remove(l)
		}
	}
}

// restoreKept renames the kept outputs back to their names.
func (a *aside) restoreKept() {
	for n := range a.kept {
		_ = os.Rename(filepath.Join(a.saved, n), filepath.Join(a.outDir, n))
	}
	os.RemoveAll(a.saved)
}

// complete reports whether the compile wrote every output that was
// there before.
func (a *aside) complete() bool {
	for n := range a.kept {
		if _, err := os.Lstat(filepath.Join(a.outDir, n)); err != nil {
			return false
		}
	}
	return true
}

// keep makes the compile's outputs the unit's (after complete): each is
// dated as the one it replaces, so that Cargo sees no change, an output
// that was not there before is removed, and the kept ones are dropped.
func (a *aside) keep() error {
	defer os.RemoveAll(a.saved)
	for _, n := range a.names {
		fi := a.kept[n]
		out := filepath.Join(a.outDir, n)
		if fi == nil {
			os.Remove(out)
			continue
		}
		if err := os.Chtimes(out, fi.ModTime(), fi.ModTime()); err != nil {
			return err
		}
	}
	return nil
}

// run runs cmd at the lowest CPU priority in a process group of its own,
// and kills the group (a linker rustc started included: it must not
// write an output after the kept one is back) once cancel reports true.
// It reports whether cmd ran to its end, whether it failed, and the CPU
// time it took.
func run(cmd *exec.Cmd, cancel func() bool) (finished, failed bool, cpu time.Duration) {
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	// Nice is per thread on Linux, and a child inherits the forking
	// thread's: lower it on the thread that starts rustc.
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, 0, 19)
	if cmd.Start() != nil {
		return true, true, 0
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	used := func() time.Duration { return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() }
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return true, !cmd.ProcessState.Success(), used()
		case <-tick.C:
			if cancel() {
				_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
				<-exited
				return false, false, used()
			}
		}
	}
}

// Pending reports whether a background compile is still to run or
// running in the target dir targetDir (any profile, any --target).
func Pending(targetDir string) bool {
	for _, pat := range []string{"*/incremental", "*/*/incremental"} {
		m, _ := filepath.Glob(filepath.Join(targetDir, pat, prefix+"*.pending"))
		if len(m) > 0 {
			return true
		}
	}
	return false
}
