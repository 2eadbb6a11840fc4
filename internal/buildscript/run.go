package buildscript

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/exitstatus"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/gitwatch"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/store"
	"github.com/grove-rs/grove/internal/umask"
)

// IsCall reports whether args (os.Args) are a trampoline's call:
// `grove REAL` with EnvReal set to REAL.
func IsCall(args []string) bool {
	v := os.Getenv(EnvReal)
	return len(args) == 2 && v != "" && v == args[1]
}

// maxStream bounds what a run may print and still be stored.
const maxStream = 8 << 20

// Main runs the build script real for Cargo: a stored run is replayed, or
// the script runs and its run is stored. It returns the status for the
// process (package exitstatus: the script's death by a signal is handed
// on, as when grove execs it).
func Main(real string) (code int) {
	os.Unsetenv(EnvReal)
	// Whatever happens next, the last run's marker says nothing of this
	// one (package gitwatch).
	gitwatch.ClearMark(os.Getenv("OUT_DIR"))
	// What the run gets of the environment, for seeding (key/runenv.go):
	// written whatever decides how it runs.
	key.MarkRunEnv(os.Environ())
	cfg := settings.FromEnv(os.Getenv)
	if cfg.Disable || !cfg.CacheBuildScripts || !groveIsWrapper() || excluded(cfg, os.Getenv("CARGO_PKG_NAME")) {
		return execReal(real)
	}
	pkg := os.Getenv("CARGO_PKG_NAME")
	r := &runner{cfg: cfg, real: real, start: time.Now(),
		ev: stats.Event{Build: os.Getppid(), Crate: strings.ReplaceAll(pkg, "-", "_"), Run: true}}
	started := false
	defer func() {
		if p := recover(); p != nil {
			r.logf("panic: %v", p)
			if !started {
				r.finish(stats.Error, fmt.Sprintf("internal error: %v", p))
				code = execReal(real)
			}
		}
	}()
	if err := r.open(); err != nil {
		r.logf("build-script miss %s: %v (running it)", pkg, err)
		var nc key.NotCacheable
		if errors.As(err, &nc) {
			r.finish(stats.Uncacheable, string(nc))
		} else {
			r.finish(stats.Error, err.Error())
		}
		return execReal(real)
	}
	if r.tryReplay() {
		return 0
	}
	// Single flight: builds that run the same script on the same inputs
	// at once wait for one run, then replay it. The lock stands for the
	// run key; inputs declared outside the package are known only after a
	// run, so a waiter whose differ finds no match and runs its own
	// (a wait, never a wrong replay: Matches decides what is served).
	// Entries are written whole (PutObject renames into place), so a
	// waiter, or a build that does not wait, never reads half a run.
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	t0 := time.Now()
	unlock, err := r.st.LockKey(ctx, filehash.Bytes([]byte("build-script run\x00"+r.run.ArgKey)))
	r.ev.LockUs = time.Since(t0).Microseconds()
	if err != nil {
		r.logf("build-script lock %s: %v (running without single-flight)", pkg, err)
	} else {
		defer unlock()
		if r.ev.LockUs > 1000 {
			r.logf("build-script lock %s: waited %d ms", pkg, r.ev.LockUs/1000)
		}
		if r.tryReplay() {
			return 0
		}
	}
	if r.remoteFetch() && r.tryReplay() {
		return 0
	}
	started = true
	return r.runAndStore()
}

// lockWait bounds the wait for another build's run of the same script
// (then this one runs it too), as the wrapper bounds its wait for a
// compile.
const lockWait = 20 * time.Minute

// groveIsWrapper reports whether Cargo runs grove as its rustc wrapper in
// this build (Cargo passes RUSTC_WRAPPER to build scripts): after
// `grove off` a trampoline left in a target dir only runs the script.
func groveIsWrapper() bool {
	w := os.Getenv("RUSTC_WRAPPER")
	if w == "" {
		return false
	}
	if filepath.Base(w) == "grove" {
		return true
	}
	self, err := os.Executable()
	if err != nil {
		return false
	}
	if p, err := exec.LookPath(w); err == nil {
		a, err1 := os.Stat(p)
		b, err2 := os.Stat(self)
		return err1 == nil && err2 == nil && os.SameFile(a, b)
	}
	return false
}

// execReal replaces grove with the real script.
func execReal(real string) int {
	err := syscall.Exec(real, []string{real}, os.Environ())
	fmt.Fprintf(os.Stderr, "grove: run build script %s: %v\n", real, err)
	return 1
}

type runner struct {
	cfg       settings.Settings
	real      string
	start     time.Time
	st        *store.Store
	run       *key.BuildRun
	ev        stats.Event
	untrusted bool   // the store is refused: not even its statistics are written
	stored    string // the run entry save stored, for the remote (remote.go)
}

func (r *runner) open() error {
	access, err := store.ParseAccess(r.cfg.Shared)
	if err != nil {
		return err
	}
	if r.st, err = store.OpenAccess(r.cfg.Dir, access); err != nil {
		r.untrusted = errors.Is(err, store.ErrUntrusted)
		return err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	r.run, err = key.NewBuildRun(r.real, cwd, os.Environ(), &filehash.Hasher{Memo: r.st})
	return err
}

func (r *runner) manifest() (*record.Manifest, error) {
	b, err := r.st.GetObject(record.NSRunManifest, r.run.ArgKey)
	if errors.Is(err, fs.ErrNotExist) {
		return &record.Manifest{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m record.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("run manifest %s: %w", r.run.ArgKey, err)
	}
	return &m, nil
}

// tryReplay serves a stored run. On any failure OUT_DIR is emptied again
// and false returned: the script then runs.
func (r *runner) tryReplay() bool {
	m, err := r.manifest()
	if err != nil {
		r.logf("lookup: %v", err)
		return false
	}
	for _, c := range m.Candidates {
		if !r.run.Matches(c) {
			continue
		}
		b, err := r.st.GetObject(record.NSRun, string(c.Entry))
		if err != nil {
			continue
		}
		e, err := record.DecodeBuildRun(b)
		if err != nil {
			_ = r.st.DropObject(record.NSRun, string(c.Entry))
			continue
		}
		if err := r.replay(&e); err != nil {
			r.logf("replay: %v (running it)", err)
			r.emptyOutDir()
			return false
		}
		r.st.TouchObject(record.NSRun, string(c.Entry))
		if c.Git == nil && r.run.Tree() != "" {
			gitwatch.MarkReadNoGit(r.run.OutDir)
		}
		r.logf("build-script hit %s (%d ms, saved %d ms)", e.Package, time.Since(r.start).Milliseconds(), e.RunMs)
		r.ev.SavedMs = max(e.RunMs-time.Since(r.start).Milliseconds(), 0)
		r.finish(stats.Hit, "")
		return true
	}
	return false
}

func (r *runner) emptyOutDir() {
	ents, _ := os.ReadDir(r.run.OutDir)
	for _, e := range ents {
		_ = os.RemoveAll(filepath.Join(r.run.OutDir, e.Name()))
	}
}

// replay writes the run's OUT_DIR (empty: NewBuildRun checked) and its
// output with this tree's paths. Files are private copies: a script's
// outputs are read by rustc and linkers, and nothing here shares an inode
// with the store.
func (r *runner) replay(e *record.BuildRun) error {
	// Modes are those the script's own writes would get in this process:
	// 0666 (0777 for a program) less the umask, as for rustc's outputs
	// (package umask).
	fileMode, execMode := umask.Mode(r.run.OutDir, false), umask.Mode(r.run.OutDir, true)
	for _, f := range e.Files {
		dst := filepath.Join(r.run.OutDir, filepath.FromSlash(f.Path))
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return fmt.Errorf("run entry names %q outside OUT_DIR", f.Path)
		}
		if f.Dir {
			if err := os.MkdirAll(dst, 0o777); err != nil { // less the umask
				return err
			}
			continue
		}
		if _, err := r.st.CheckBlob(string(f.Digest), store.Stamp{Size: f.Size, MtimeNs: f.MtimeNs}, false); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil { // less the umask
			return err
		}
		// The file's mode is the run's, not the blob's: one blob serves
		// every file of its content, and a blob from a remote has the
		// mode its header suggests.
		mode := fileMode
		if f.Exec {
			mode = execMode
		}
		if !f.Text {
			if _, err := r.st.Materialize(string(f.Digest), dst, false); err != nil {
				return err
			}
			if err := os.Chmod(dst, mode); err != nil {
				return err
			}
			// Units above the script key OUT_DIR's files (key/native.go)
			// within seconds: the note spares them the read (key/blobinode.go).
			key.NoteCopy(r.st, dst, string(f.Digest))
			continue
		}
		b, err := os.ReadFile(r.st.BlobPath(string(f.Digest)))
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, []byte(r.run.Norm.Denormalize(string(b))), mode); err != nil {
			return err
		}
	}
	// From here the outputs are in place; a failed write to Cargo's pipe
	// is Cargo's to report.
	_, _ = io.WriteString(os.Stderr, r.run.Norm.Denormalize(e.Stderr))
	_, _ = io.WriteString(os.Stdout, r.run.Norm.Denormalize(e.Stdout))
	return nil
}

// runAndStore runs the real script, its output streamed to Cargo as it
// comes, and stores the run if it succeeded.
func (r *runner) runAndStore() int {
	var out, errb capped
	cmd := exec.Command(r.real)
	cmd.Stdin = os.Stdin
	cmd.Stdout = io.MultiWriter(os.Stdout, &out)
	cmd.Stderr = io.MultiWriter(os.Stderr, &errb)
	w := r.watchGit()
	t0 := time.Now()
	r.ev.CompileAt = t0.UnixMilli()
	err := cmd.Run()
	runMs := time.Since(t0).Milliseconds()
	git := w.result()
	r.ev.CompileUs = time.Since(t0).Microseconds()
	r.ev.ChildCPUUs = stats.ChildCPU(cmd.ProcessState)
	if err != nil {
		if code, ok := exitstatus.FromWait(err); ok {
			r.logf("build-script failed %s: %v (not stored)", os.Getenv("CARGO_PKG_NAME"), err)
			r.finish(stats.Failed, err.Error())
			return code
		}
		fmt.Fprintf(os.Stderr, "grove: run build script %s: %v\n", r.real, err)
		r.finish(stats.Error, "run: "+err.Error())
		return 1
	}
	if out.over || errb.over {
		r.logf("build-script miss %s: output over %d bytes (not stored)", os.Getenv("CARGO_PKG_NAME"), maxStream)
		r.finish(stats.Uncacheable, fmt.Sprintf("output over %d bytes", maxStream))
		return 0
	}
	ts := time.Now()
	reason, err := r.save(out.String(), errb.String(), runMs, t0, git)
	r.ev.StoreUs = time.Since(ts).Microseconds()
	switch {
	case err != nil:
		r.logf("build-script store %s: %v", os.Getenv("CARGO_PKG_NAME"), err)
		r.finish(stats.Error, "save: "+err.Error())
	case reason != "":
		r.logf("build-script miss %s: not stored: %s", os.Getenv("CARGO_PKG_NAME"), reason)
		r.finish(stats.Uncacheable, reason)
	default:
		what := "stored"
		if git.read {
			// Served only where git's state is this one (key.GitHead).
			what = "stored, read git"
		}
		r.logf("build-script miss %s (ran %d ms, %s)", os.Getenv("CARGO_PKG_NAME"), runMs, what)
		r.finish(stats.Miss, "")
		r.remotePush()
	}
	return 0
}

// finish records the run's event in the store's statistics, summed apart
// from compiles (stats.Event.Run). A statistics failure never matters to
// the build.
func (r *runner) finish(kind, reason string) {
	if r.untrusted {
		return
	}
	r.ev.Kind, r.ev.Reason = kind, reason
	r.ev.Time = time.Now().UnixMilli()
	r.ev.Us = time.Since(r.start).Microseconds()
	r.ev.Ms = r.ev.Us / 1000
	r.ev.CPUUs = stats.OwnCPU(r.ev.ChildCPUUs)
	if r.run != nil {
		r.ev.Key = r.run.ArgKey
	}
	dir := r.cfg.Dir
	if r.st != nil {
		dir = r.st.Dir()
	}
	_ = stats.Append(dir, r.ev)
}

// save stores a successful run. reason says why one is not stored.
func (r *runner) save(stdout, stderr string, runMs int64, started time.Time, git gitSeen) (reason string, err error) {
	if r.run.PackageChanged() {
		return "it changed its package's or its tree's files", nil
	}
	if git.moved {
		return "git's HEAD or refs moved during the run", nil
	}
	if p := r.run.WroteOutsideOutDir(); p != "" {
		return "it wrote " + p + " outside OUT_DIR", nil
	}
	inputs, err := r.run.Inputs(stdout)
	if err != nil {
		return "", err
	}
	for _, in := range inputs {
		p := r.run.Norm.Denormalize(in.Path)
		if st, err := filehash.StatFile(p); err == nil && !st.Newest().Before(started) {
			return p + " changed during the run", nil
		}
	}
	outs, nOut, nErr, pins, err := r.run.Outputs(stdout, stderr)
	if err != nil {
		var nc key.NotCacheable
		if errors.As(err, &nc) {
			return string(nc), nil
		}
		return "", err
	}
	e := record.BuildRun{Package: os.Getenv("CARGO_PKG_NAME"), Stdout: nOut, Stderr: nErr, RunMs: runMs}
	for _, o := range outs {
		f := record.RunFile{Path: o.Rel, Dir: o.Dir, Exec: o.Exec, Text: o.Text}
		if !o.Dir {
			var d string
			if d, f.Size, f.MtimeNs, err = r.putBlob(o); err != nil {
				return "", err
			}
			f.Digest = record.Digest(d)
		}
		e.Files = append(e.Files, f)
	}
	for ph, p := range r.run.InputPins(inputs) {
		if pins == nil {
			pins = map[string]string{}
		}
		pins[ph] = p
	}
	c := record.Candidate{Inputs: inputs, Pins: pins}
	if git.read {
		c.Git = &git.state
	}
	c.Entry = record.EntryKey(r.run.EntryKey(c))
	r.stored = string(c.Entry)
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	if err := r.st.PutObject(record.NSRun, string(c.Entry), b); err != nil {
		return "", err
	}
	m, err := r.manifest()
	if err != nil {
		m = &record.Manifest{}
	}
	m.Add(c)
	if b, err = json.Marshal(m); err != nil {
		return "", err
	}
	if err := r.st.PutObject(record.NSRunManifest, r.run.ArgKey, b); err != nil {
		return "", err
	}
	if c.Git == nil && r.run.Tree() != "" {
		gitwatch.MarkReadNoGit(r.run.OutDir)
	}
	return "", nil
}

// gitSeen is what a run read of git (key.GitHead's rule).
type gitSeen struct {
	read  bool   // it opened git's dirs, or could not be watched
	state string // then: the tree's GitHead after the run
	moved bool   // HEAD or a ref was written while it ran
}

// gitWatch watches a path package's run: an inotify watch on the
// worktree's git dirs (package gitwatch), or, where none can be set, the
// GitHead before the run, to tell a move.
type gitWatch struct {
	r      *runner
	w      *gitwatch.Watch
	before string
}

// watchGit starts watching before the script starts; the dirs are
// resolved first, so grove's own git process is not seen.
func (r *runner) watchGit() *gitWatch {
	g := &gitWatch{r: r}
	tree := r.run.Tree()
	if tree == "" {
		return g
	}
	dirs, err := gitwatch.Dirs(tree)
	if err == nil {
		g.w, err = gitwatch.Start(dirs)
	}
	if err != nil {
		r.logf("build-script %s: git dirs not watched: %v (the run counts as reading git)", os.Getenv("CARGO_PKG_NAME"), err)
		g.before = r.run.GitHead()
	}
	return g
}

// result reads what the run did, after it has exited.
func (g *gitWatch) result() gitSeen {
	tree := g.r.run.Tree()
	if tree == "" {
		return gitSeen{}
	}
	if g.w == nil {
		now := key.GitHead(tree)
		return gitSeen{read: true, state: now, moved: now != g.before}
	}
	defer g.w.Close()
	res := g.w.Result()
	if !res.Read {
		return gitSeen{}
	}
	// A ref written after the run but before git answers is seen by a
	// second read of the queue.
	state := key.GitHead(tree)
	return gitSeen{read: true, state: state, moved: res.Moved || g.w.Result().Moved}
}

// putBlob stores one OUT_DIR file (its normalized text for a Text file)
// and returns its digest and the blob's stamp.
func (r *runner) putBlob(o key.RunOutput) (digest string, size, mtimeNs int64, err error) {
	src := o.Path
	if o.Text {
		digest = filehash.Bytes(o.Data)
		f, err := os.CreateTemp(filepath.Dir(r.run.OutDir), ".grove-run-*")
		if err != nil {
			return "", 0, 0, err
		}
		src = f.Name()
		defer os.Remove(src)
		_, err = f.Write(o.Data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", 0, 0, err
		}
	} else if digest, _, err = r.run.Hasher.File(src); err != nil {
		return "", 0, 0, err
	}
	if err := r.st.PutBlob(src, digest, false); err != nil {
		return "", 0, 0, err
	}
	fi, err := r.st.BlobStat(digest)
	if err != nil {
		return "", 0, 0, err
	}
	return digest, fi.Size(), fi.ModTime().UnixNano(), nil
}

// logf appends a line to GROVE_LOG, if set.
func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log == "" {
		return
	}
	f, err := os.OpenFile(r.cfg.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s [%d] %s\n", time.Now().Format("15:04:05.000"), os.Getpid(), fmt.Sprintf(format, args...))
}

// capped keeps up to maxStream bytes and notes when there was more.
type capped struct {
	bytes.Buffer
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > maxStream {
		c.over = true
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// excluded: GROVE_EXCLUDE names crates; a package's runs are excluded by
// its name or its crate name.
func excluded(cfg settings.Settings, pkg string) bool {
	return cfg.Excluded(pkg) || cfg.Excluded(strings.ReplaceAll(pkg, "-", "_"))
}
