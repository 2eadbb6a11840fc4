// Package wrapper is grove's RUSTC_WRAPPER flow: Cargo runs
// `grove <rustc> ARGS...` for every unit, and grove either restores the
// unit's outputs from the store or runs rustc and stores them.
//
// Two rules shape everything here:
//
//   - Never serve a stale artifact: every input that can change rustc's
//     output is in the key (every rule is in package key), or the unit is
//     not cached. This package only orchestrates.
//   - Never break a build: any failure of grove's own runs rustc exactly as
//     given, and records why. Only rustc's own exit status is returned.
package wrapper

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/agent"
	"github.com/grove-rs/grove/internal/exitstatus"
	"github.com/grove-rs/grove/internal/incr"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/store"
	"github.com/grove-rs/grove/internal/trim"
)

// Main runs one rustc invocation through the cache and returns the status
// for the process (package exitstatus: rustc's death by a signal is
// handed on).
func Main(rustcPath string, args []string) int {
	w := &wrapper{
		start: time.Now(),
		cfg:   settings.FromEnv(os.Getenv),
		inv:   rustc.Parse(rustcPath, args),
	}
	if job := os.Getenv(ingestEnv); job != "" {
		return ingestMain(job) // the background store of big programs (ingest.go)
	}
	if file := os.Getenv(incr.BatchEnv); file != "" {
		return incr.RunBatch(file, store.WarmQueue(w.cfg.Dir), w.logf, w.recordLib) // the batch grove seed began (incr/batch.go)
	}
	if os.Getenv(incr.Env) != "" {
		return incr.Run(rustcPath, args, store.WarmQueue(w.cfg.Dir), w.logf) // a background compile Start began
	}
	w.stopProfile = startProfile(w.cfg.CPUProfile)
	defer w.stopProfile()
	return w.run()
}

type wrapper struct {
	start  time.Time
	flight *os.File // the unit's flight lock while this process holds it
	cfg    settings.Settings
	inv    *rustc.Invocation
	st     *store.Store
	rec    record.Store // the records in st
	ev     stats.Event
	// untrusted: the store was refused (store.ErrUntrusted).
	untrusted bool
	// The remote cache (remote.go), set up on the first local miss.
	remote              *agent.Client
	remoteOff, remoteRO bool
	saved               string // the entry key save stored
	// stopProfile ends the GROVE_CPUPROFILE profile (a no-op when off);
	// execRustc calls it too, since exec never returns.
	stopProfile func()
	// rustcRan: rustc has run, so its result stands even if grove fails.
	rustcRan bool
}

func (w *wrapper) run() (code int) {
	if w.cfg.Disable {
		w.dropReads()
		return w.execRustc()
	}
	if err := w.cfg.Check(); err != nil {
		// No store, no statistics, no log: each would land in the
		// package's dir. Units say why (Cargo shows it); queries do not.
		w.cfg.Log = ""
		if w.inv.Input != "" {
			fmt.Fprintf(os.Stderr, "grove: %v (compiling without the cache)\n", err)
		}
		return w.execRustc()
	}
	w.ev = stats.Event{Build: os.Getppid(), Crate: w.inv.CrateName}
	if w.ev.Dir, _ = os.Getwd(); w.ev.Dir == "" {
		w.ev.Dir = "?"
	}
	switch {
	case !w.inv.Cacheable():
		return w.passthrough(stats.Uncacheable, w.inv.Uncacheable)
	case w.cfg.Excluded(w.inv.CrateName):
		return w.passthrough(stats.Uncacheable, "excluded by GROVE_EXCLUDE")
	}

	// From here on, any error of grove's own falls back to plain rustc.
	// A panic is such an error too: recover, record and fall back, unless
	// rustc already ran (then its result stands).
	defer func() {
		if r := recover(); r != nil {
			if w.rustcRan {
				w.logf("panic after rustc ran: %v", r)
				return
			}
			code = w.passthrough(stats.Error, fmt.Sprintf("internal error: %v", r))
		}
	}()

	if err := w.openStore(); err != nil {
		return w.passthrough(stats.Error, err.Error())
	}
	t0 := time.Now()
	u, err := key.New(w.inv, w.cfg, w.st, os.Environ())
	w.ev.KeyUs = time.Since(t0).Microseconds()
	if err != nil {
		var nc key.NotCacheable
		if errors.As(err, &nc) {
			return w.passthrough(stats.Uncacheable, string(nc))
		}
		return w.passthrough(stats.Error, "key: "+err.Error())
	}
	w.ev.Key = string(u.ArgKey)

	if code, ok := w.tryHit(u); ok {
		return code
	}
	// Single flight per input set (key/flight.go): builds of the same
	// sources wait for one compile, builds of different ones never wait.
	var cands []record.Candidate
	if m, err := readManifest(w, u.ArgKey); err == nil && m != nil {
		cands = m.Candidates
	}
	flight := u.FlightKey(cands)
	ctx, cancel := lockContext()
	defer cancel()
	t1 := time.Now()
	lock, err := w.st.LockKeyFile(ctx, flight)
	w.ev.LockUs = time.Since(t1).Microseconds()
	if err == nil {
		// Closed at exit; a background store of this unit's programs
		// holds it on (ingest.go).
		w.flight = lock
		defer lock.Close()
		if w.ev.LockUs > 1000 {
			w.logf("lock %s: waited %d ms", flight[:12], w.ev.LockUs/1000)
		}
		// Another build may have compiled this unit while we waited.
		if code, ok := w.tryHit(u); ok {
			return code
		}
	} else {
		w.logf("lock %s: %v (compiling without single-flight)", flight, err)
	}
	if w.remoteFetch(u) {
		if code, ok := w.tryHit(u); ok {
			return code
		}
	}

	return w.compileAndStore(u)
}

// openStore opens the store the settings name, as w.st. A store others
// could write is not written to at all, not even its statistics, and never
// silently: each unit says so on stderr (Cargo shows it) until the store
// is removed or shared explicitly.
func (w *wrapper) openStore() error {
	access, err := store.ParseAccess(w.cfg.Shared)
	if err != nil {
		return err
	}
	st, err := store.OpenAccess(w.cfg.Dir, access)
	if err != nil {
		if errors.Is(err, store.ErrUntrusted) {
			w.untrusted = true
			fmt.Fprintf(os.Stderr, "grove: %v (compiling without the cache)\n", err)
		}
		return err
	}
	w.st, w.rec = st, record.New(st)
	return nil
}

// compileAndStore runs rustc for a miss, stores its outputs, and records
// the event; it returns rustc's exit code.
func (w *wrapper) compileAndStore(u *key.Unit) int {
	w.beforeCompile(u)
	w.rustcRan = true
	w.ev.CompileAt = time.Now().UnixMilli()
	res, err := w.compile(u)
	if err != nil {
		// rustc could not even be started: fall back (which will report it).
		w.rustcRan = false
		return w.passthrough(stats.Error, "run rustc: "+err.Error())
	}
	w.ev.ChildCPUUs = res.cpuUs
	if res.code != 0 {
		w.finish(stats.Failed, "rustc "+exitstatus.String(res.code))
		return res.code
	}
	w.ev.CompileUs = res.dur.Microseconds()
	w.writeEnvMark(u)
	ts := time.Now()
	reason, err := w.save(u, res)
	w.ev.StoreUs = time.Since(ts).Microseconds()
	w.installTrampoline(u)
	if err != nil {
		w.finish(stats.Error, "save: "+err.Error())
	} else if reason != "" {
		w.finish(stats.Uncacheable, reason)
	} else {
		w.remotePush(u, w.saved)
		w.ev.Why = w.explainMiss(u)
		w.finish(stats.Miss, "")
		w.maybeTrim()
	}
	return 0
}

// maybeTrim starts a background trim of the store when one is due (at
// most hourly, see trim.ClaimAuto): only after a miss stored something, so
// a hit never pays for it, and detached, so no build waits for it.
func (w *wrapper) maybeTrim() {
	if !w.cfg.AutoTrim || !trim.ClaimAuto(w.st.Dir(), time.Now()) {
		return
	}
	exe, err := os.Executable()
	if err == nil {
		err = trim.StartAuto(exe, w.st.Dir())
	}
	if err != nil {
		w.logf("%v", err)
	}
}

// tryHit restores the unit if the store has it. ok is false on a miss or
// when the entry could not be served; the caller then compiles.
func (w *wrapper) tryHit(u *key.Unit) (code int, ok bool) {
	t0 := time.Now()
	entry, cand, err := w.lookup(u)
	entryKey := cand.Entry
	w.ev.LookupUs += time.Since(t0).Microseconds() // a miss looks up again after the lock
	if err != nil {
		w.logf("lookup: %v", err)
		return 0, false
	}
	if entry == nil {
		return 0, false
	}
	t1 := time.Now()
	res, err := w.restore(u, entry)
	w.ev.RestoreUs += time.Since(t1).Microseconds()
	if err != nil {
		w.logf("restore %s: %v", entryKey, err)
		return 0, false
	}
	w.rec.TouchEntry(entryKey)
	w.writeReads(u, cand)
	w.writeEnvMark(u)
	w.ensureLib(u, entry)
	w.warmAfterHit(u)
	w.ev.SavedMs = entry.CompileMs - time.Since(w.start).Milliseconds()
	if w.ev.SavedMs < 0 {
		w.ev.SavedMs = 0
	}
	w.ev.Bytes, w.ev.SharedBytes = res.Bytes, res.SharedBytes
	reason := ""
	if w.cfg.Verify {
		reason = w.verify(u, entry)
	}
	w.finish(stats.Hit, reason)
	return 0, true
}

// passthrough records why the invocation is not served from the cache and
// runs rustc as given.
func (w *wrapper) passthrough(kind, reason string) int {
	w.finish(kind, reason)
	w.dropReads()
	return w.execRustc()
}

func (w *wrapper) finish(kind, reason string) {
	w.ev.Kind, w.ev.Reason = kind, reason
	w.ev.Time = time.Now().UnixMilli()
	w.ev.Us = time.Since(w.start).Microseconds()
	w.ev.Ms = w.ev.Us / 1000
	w.ev.CPUUs = stats.OwnCPU(w.ev.ChildCPUUs)
	if w.cfg.Log != "" {
		w.logf("%s %s %s (%d ms)", kind, w.inv.CrateName, reason, w.ev.Ms)
	}
	// Queries (-vV, --print) are not units; counting them would only
	// drown the figures that matter.
	if kind == stats.Uncacheable && w.inv.Input == "" {
		return
	}
	if w.untrusted {
		return
	}
	dir := w.cfg.Dir
	if w.st != nil {
		dir = w.st.Dir()
	}
	_ = stats.Append(dir, w.ev)
}

// execRustc replaces grove with rustc, so that signals, stdio and the exit
// status are exactly rustc's. Should exec fail, rustc runs as a child.
func (w *wrapper) execRustc() int {
	path := w.inv.Rustc
	if !strings.ContainsRune(path, '/') {
		if p, err := exec.LookPath(path); err == nil {
			path = p
		}
	}
	argv := append([]string{w.inv.Rustc}, w.inv.Args...)
	if w.stopProfile != nil {
		w.stopProfile()
	}
	err := syscall.Exec(path, argv, os.Environ())
	w.logf("exec %s: %v", path, err)
	cmd := exec.Command(w.inv.Rustc, w.inv.Args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	if code, ok := exitstatus.FromWait(err); ok {
		return code
	}
	fmt.Fprintf(os.Stderr, "grove: cannot run %s: %v\n", w.inv.Rustc, err)
	return 1
}

// logf appends a line to GROVE_LOG, if set.
func (w *wrapper) logf(format string, args ...any) {
	if w.cfg.Log == "" {
		return
	}
	f, err := os.OpenFile(w.cfg.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s [%d] %s\n", time.Now().Format("15:04:05.000"), os.Getpid(), fmt.Sprintf(format, args...))
}

// writeReads writes the unit's reads file for the candidate stored or
// matched (key/reads.go); one that cannot be written is removed, so seed
// never reads a stale one.
func (w *wrapper) writeReads(u *key.Unit, c record.Candidate) {
	if err := u.WriteReads(c); err != nil {
		w.logf("reads file: %v", err)
		if p := u.ReadsFile(); p != "" {
			_ = os.Remove(p)
		}
	}
}

// dropReads removes the reads file of an invocation that rustc compiles
// unobserved: it would describe an older compile.
func (w *wrapper) dropReads() {
	if w.inv.Input == "" || w.inv.OutDir == "" {
		return
	}
	_ = os.Remove(filepath.Join(w.inv.OutDir, key.ReadsFileName(w.inv.DepInfoName())))
	key.DropEnvMark(w.inv.OutDir, w.inv.DepInfoName())
}

// writeEnvMark leaves the unit's env mark for grove seed (key/unitenv.go);
// one it cannot write is removed, and the unit is then not seeded.
func (w *wrapper) writeEnvMark(u *key.Unit) {
	if err := u.WriteEnvMark(); err != nil {
		w.logf("env mark: %v", err)
		key.DropEnvMark(u.OutDir, u.Inv.DepInfoName())
	}
}
