package setup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/cargolayout"
	"github.com/grove-rs/grove/internal/cargolock"
	"github.com/grove-rs/grove/internal/du"
	"github.com/grove-rs/grove/internal/gitwt"
)

// WorktreeStatus is one worktree as `grove status` shows it.
type WorktreeStatus struct {
	Path           string         `json:"path"`
	Ref            string         `json:"ref"`
	Head           string         `json:"head,omitempty"`
	Location       gitwt.Location `json:"location"`
	Prunable       bool           `json:"prunable,omitempty"`
	PrunableReason string         `json:"prunable_reason,omitempty"`
	Locked         bool           `json:"locked,omitempty"`
	// TargetDir is the effective target dir of a build started at the
	// worktree's top, resolved as Cargo does; TargetSource says from where.
	TargetDir    string `json:"target_dir,omitempty"`
	TargetSource string `json:"target_source,omitempty"`
	TargetError  string `json:"target_error,omitempty"`
	// BuildDir is where Cargo keeps the units (build.build-dir), when it
	// is not TargetDir. Its size is in Bytes, its locks in Building.
	BuildDir string `json:"build_dir,omitempty"`
	// Shared is true when TargetDir is the repository's shared dir.
	Shared bool `json:"shared"`
	// Bytes is TargetDir's disk usage (the whole shared dir if Shared).
	Bytes int64 `json:"bytes"`
	// Building is true while a Cargo build holds TargetDir's lock.
	Building  bool   `json:"building"`
	BuildPIDs []int  `json:"build_pids,omitempty"`
	Covered   bool   `json:"covered"`
	Reason    string `json:"reason,omitempty"`
}

// Candidate is a target dir `grove reclaim` would delete.
type Candidate struct {
	Path string `json:"path"`
	// Kind: "obsolete" (a live worktree's target/ its builds no longer
	// use), "orphan" (left under worktrees/ or .worktrees/ by a worktree
	// git no longer knows), "prunable" (of a worktree git lists as
	// prunable).
	Kind     string `json:"kind"`
	Worktree string `json:"worktree"`
	Bytes    int64  `json:"bytes"`
	// Building marks a dir in use: a running build holds its lock, or a
	// running process (a test binary, `cargo run`'s program) runs from it
	// or has it as working directory. reclaim skips it.
	Building  bool  `json:"building,omitempty"`
	BuildPIDs []int `json:"build_pids,omitempty"`
}

// inUse fills Building and BuildPIDs from Cargo's locks and from the
// processes that use the dir (cargolock.Users): Cargo drops its lock
// before it runs tests or `cargo run`, so the lock alone misses those.
func (c *Candidate) inUse() error {
	held, err := cargolock.Held(c.Path)
	if err != nil {
		return err
	}
	c.BuildPIDs = pids(held)
	users := cargolock.Users(c.Path)
	for _, u := range users {
		c.BuildPIDs = append(c.BuildPIDs, u.PID)
	}
	c.Building = len(held) > 0 || len(users) > 0
	return nil
}

// Status is the repository's worktrees, their target dirs and disk use.
type Status struct {
	Root        string           `json:"root"`
	Mode        Mode             `json:"mode"`
	UserWrapper string           `json:"user_wrapper_config,omitempty"`
	ConfigPath  string           `json:"config"`
	SharedDir   string           `json:"shared_dir,omitempty"`
	SharedBytes int64            `json:"shared_bytes"`
	Worktrees   []WorktreeStatus `json:"worktrees"`
	Reclaim     []Candidate      `json:"reclaim"`
	// ReclaimBytes is what `grove reclaim` would free now: the blocks of
	// the inodes whose last link lies in the candidates not in use, each
	// once. A file also linked from elsewhere (grove's store, another
	// target dir) is not freed, so it is not counted.
	ReclaimBytes int64 `json:"reclaim_bytes"`
	// TotalBytes is every target dir listed, each inode counted once.
	TotalBytes int64    `json:"total_bytes"`
	Notes      []string `json:"notes,omitempty"`
}

// GetStatus gathers the status of every worktree git knows.
func GetStatus(ctx context.Context, r *Repo) (*Status, error) {
	mode, userCfg, err := r.Mode()
	if err != nil {
		return nil, err
	}
	st := &Status{Root: r.Root, Mode: mode, UserWrapper: userCfg, ConfigPath: r.ConfigPath, Worktrees: []WorktreeStatus{}, Reclaim: []Candidate{}}
	if mode == ModeShared {
		st.SharedDir = r.SharedDir
	}
	if mode == ModeCache {
		if src, _, err := r.wrapperSource(); err == nil {
			st.ConfigPath = src
		}
	}
	wts, err := r.worktrees(ctx)
	if err != nil {
		return nil, err
	}
	var cov []Coverage
	if mode == ModeCache {
		cov = r.cacheCoverage(wts)
	} else {
		cov = r.sharedCoverage(wts)
	}
	effective := map[string]bool{}
	for i, w := range wts {
		ws := WorktreeStatus{
			Path: w.Path, Ref: w.Ref(), Head: w.Head, Location: w.Location,
			Prunable: w.Prunable, PrunableReason: w.PrunableReason, Locked: w.Locked,
			Covered: cov[i].Covered, Reason: cov[i].Reason,
		}
		if mode == ModeNone {
			ws.Covered, ws.Reason = false, ""
		}
		if !w.Prunable && exists(w.Path) {
			td, src, err := cargoconfig.TargetDir(r.WorkspaceIn(w.Path), r.Env)
			switch {
			case err != nil:
				ws.TargetError = err.Error()
				if !errors.Is(err, cargoconfig.ErrNoManifest) {
					// Unsure where its builds go: protect its target/.
					for _, t := range r.ownTargets(w.Path) {
						effective[t] = true
					}
				}
			default:
				ws.TargetDir, ws.TargetSource = td, src
				ws.Shared = mode == ModeShared && samePath(td, r.SharedDir) // cache mode shares no target dir
				effective[filepath.Clean(td)] = true
				bd, err := buildDir(ctx, w.Path, td, r.Env)
				switch {
				case err != nil:
					ws.TargetError = err.Error()
					effective[filepath.Join(w.Path, "target")] = true
				case !samePath(bd, td):
					ws.BuildDir = bd
					effective[filepath.Clean(bd)] = true
				}
			}
		}
		st.Worktrees = append(st.Worktrees, ws)
	}
	st.Reclaim = r.candidates(wts, effective)

	// One walk over every distinct dir, each inode once in the total.
	var roots []string
	index := map[string]int{}
	addRoot := func(p string) {
		if p == "" {
			return
		}
		if _, ok := index[p]; !ok {
			index[p] = len(roots)
			roots = append(roots, p)
		}
	}
	for _, w := range st.Worktrees {
		addRoot(w.TargetDir)
		addRoot(w.BuildDir)
	}
	if mode == ModeShared {
		addRoot(r.SharedDir)
	}
	for _, c := range st.Reclaim {
		addRoot(c.Path)
	}
	usage, err := du.Usage(ctx, roots, du.Options{})
	if err != nil {
		return nil, err
	}
	st.TotalBytes = usage.Total
	bytesOf := func(p string) int64 {
		if i, ok := index[p]; ok {
			return usage.Roots[i].Bytes
		}
		return 0
	}
	for i := range st.Worktrees {
		w := &st.Worktrees[i]
		w.Bytes = bytesOf(w.TargetDir) + bytesOf(w.BuildDir)
		if w.TargetDir != "" {
			held, err := cargolock.Held(w.TargetDir, w.BuildDir)
			if err != nil {
				return nil, err
			}
			w.Building = len(held) > 0
			w.BuildPIDs = pids(held)
		}
	}
	if mode == ModeShared {
		st.SharedBytes = bytesOf(r.SharedDir)
	}
	var free []string
	for i := range st.Reclaim {
		c := &st.Reclaim[i]
		c.Bytes = bytesOf(c.Path)
		if err := c.inUse(); err != nil {
			return nil, err
		}
		if !c.Building {
			free = append(free, c.Path)
		}
	}
	if len(free) > 0 {
		u, err := du.Usage(ctx, free, du.Options{})
		if err != nil {
			return nil, err
		}
		st.ReclaimBytes = u.Freeable
	}
	st.Notes = r.envNotes()
	if r.WorkspaceErr != nil {
		st.Notes = append(st.Notes, r.WorkspaceErr.Error())
	}
	return st, nil
}

func pids(locks []cargolock.Lock) []int {
	var out []int
	for _, l := range locks {
		if l.PID != 0 {
			out = append(out, l.PID)
		}
	}
	return out
}

// candidates finds target dirs no build uses any more: a worktree's own
// target/ when its builds go elsewhere, and target/ dirs of worktrees that
// are gone. Only dirs that carry Cargo's marks are returned.
func (r *Repo) candidates(wts []gitwt.Worktree, effective map[string]bool) []Candidate {
	out := []Candidate{}
	seen := map[string]bool{}
	add := func(t, kind, wt string) {
		t = filepath.Clean(t)
		if seen[t] || effective[t] || samePath(t, r.SharedDir) || !IsCargoTargetDir(t) {
			return
		}
		seen[t] = true
		out = append(out, Candidate{Path: t, Kind: kind, Worktree: wt})
	}
	known := map[string]bool{}
	for _, w := range wts {
		known[filepath.Clean(w.Path)] = true
	}
	for _, w := range wts {
		for _, t := range r.ownTargets(w.Path) {
			switch {
			case w.Prunable || !exists(w.Path):
				add(t, "prunable", w.Path)
			default:
				add(t, "obsolete", w.Path)
			}
		}
	}
	for _, parent := range []string{"worktrees", ".worktrees"} {
		ents, err := os.ReadDir(filepath.Join(r.Root, parent))
		if err != nil {
			continue
		}
		for _, e := range ents {
			d := filepath.Join(r.Root, parent, e.Name())
			if !e.IsDir() || known[d] || r.otherRepository(d) {
				continue
			}
			for _, t := range r.ownTargets(d) {
				add(t, "orphan", d)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// otherRepository reports whether d, a directory git does not list as a
// worktree of this repository, belongs to some repository all the same: it
// has a .git, and that is not the leftover of one of this repository's
// worktrees (a .git file naming a gitdir under this repository's
// worktrees/ admin dir, which git has pruned). An independent clone or a
// worktree of another repository under .worktrees/ is not ours to clean.
func (r *Repo) otherRepository(d string) bool {
	fi, err := os.Lstat(filepath.Join(d, ".git"))
	if err != nil {
		return false
	}
	if !fi.Mode().IsRegular() {
		return true // a clone's .git dir, or a symlink: not ours
	}
	b, err := os.ReadFile(filepath.Join(d, ".git"))
	if err != nil {
		return true
	}
	gitdir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
	if !ok {
		return true
	}
	gitdir = strings.TrimSpace(gitdir)
	if !filepath.IsAbs(gitdir) {
		gitdir = filepath.Join(d, gitdir)
	}
	admin := filepath.Join(r.Git.CommonDir, "worktrees")
	rel, err := filepath.Rel(admin, gitdir)
	return err != nil || rel == "." || strings.HasPrefix(rel, "..")
}

// IsCargoTargetDir reports whether dir is a real directory (not a
// symlink) that Cargo made, in either of Cargo's layouts
// (cargolayout.IsBuildDir).
func IsCargoTargetDir(dir string) bool {
	return cargolayout.IsBuildDir(dir)
}
