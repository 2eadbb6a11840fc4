// Package stats records one event per wrapper invocation and sums them up
// for `grove stats` and `grove explain`.
//
// Events are JSON lines appended to <store>/stats/events.jsonl with
// O_APPEND and a single write each, so concurrent wrappers never interleave
// and no lock is needed.
package stats

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kinds of event.
const (
	Hit         = "hit"
	Miss        = "miss"
	Uncacheable = "uncacheable"
	Error       = "error"  // grove failed internally and ran rustc as given
	Failed      = "failed" // rustc itself failed (nothing stored)
)

// Change is one key input that differed from the nearest stored unit, as
// an event records it (key.Diff computes it).
type Change struct {
	Name string `json:"name"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Event is one wrapper invocation.
type Event struct {
	Time      int64  `json:"t"`     // unix ms
	Build     int    `json:"build"` // Cargo's pid: one build's invocations share it
	Crate     string `json:"crate,omitempty"`
	Kind      string `json:"kind"`
	Reason    string `json:"reason,omitempty"`
	Ms        int64  `json:"ms"`               // wall time of the wrapper
	Us        int64  `json:"us"`               // the same in microseconds
	KeyUs     int64  `json:"key_us,omitempty"` // of which computing the argument key
	LookupUs  int64  `json:"lookup_us,omitempty"`
	RestoreUs int64  `json:"restore_us,omitempty"`
	LockUs    int64  `json:"lock_us,omitempty"`    // waiting for another build compiling the same inputs
	CompileAt int64  `json:"compile_at,omitempty"` // unix ms when rustc started (misses)
	CompileUs int64  `json:"compile_us,omitempty"` // rustc's run (misses)
	StoreUs   int64  `json:"store_us,omitempty"`   // storing the outputs (misses)
	ScanUs    int64  `json:"scan_us,omitempty"`    // of which scanning them for this tree's paths (key/pin.go)
	// ChildCPUUs is the CPU time (user+sys) of the rustc, or build script,
	// grove ran as a child (misses, failed compiles); CPUUs is grove's own,
	// helpers it ran included (cpu.go). Events older than these fields
	// carry neither, and count as unmeasured.
	ChildCPUUs  int64    `json:"child_cpu_us,omitempty"`
	CPUUs       int64    `json:"cpu_us,omitempty"`
	SavedMs     int64    `json:"saved_ms,omitempty"` // compile time avoided by a hit
	Bytes       int64    `json:"bytes,omitempty"`    // bytes of outputs restored
	SharedBytes int64    `json:"shared_bytes,omitempty"`
	Key         string   `json:"key,omitempty"`
	Why         []Change `json:"why,omitempty"`
	Dir         string   `json:"dir,omitempty"`
	// Remote is what the remote cache did for a local miss: "hit" (an
	// entry was fetched, verified and imported), "miss", "unavailable"
	// (an error or timeout), "skipped" (the agent's circuit breaker is
	// open), "refused" (what it sent failed verification), "no agent".
	Remote   string `json:"remote,omitempty"`
	RemoteUs int64  `json:"remote_us,omitempty"` // of which asking the remote
	// Run marks a build-script run (package buildscript), not a compile:
	// Crate is the package, Hit a replayed run, Miss a run stored,
	// Uncacheable a run not stored, Failed a failed script. Runs are
	// summed apart from units.
	Run bool `json:"run,omitempty"`
}

const maxLog = 64 << 20

func logPath(storeDir string) string  { return filepath.Join(storeDir, "stats", "events.jsonl") }
func zeroPath(storeDir string) string { return filepath.Join(storeDir, "stats", "zero") }

// Append writes ev to the store's event log. Errors are returned but the
// wrapper ignores them: statistics never break a build.
func Append(storeDir string, ev Event) error {
	b := append(appendEvent(make([]byte, 0, 512), &ev), '\n')
	p := logPath(storeDir)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = create(storeDir, p, os.O_WRONLY|os.O_APPEND)
	}
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxLog {
		_ = os.Rename(p, p+".1") // keep one old generation; a racing writer just loses the rotation
	}
	_, err = f.Write(b)
	return err
}

// TrimLog removes the old generation of the event log (Append rotates it
// at maxLog) once it was last written before cutoff: the log is bounded by
// size (two generations) and, through trim, by age.
func TrimLog(storeDir string, cutoff time.Time) {
	old := logPath(storeDir) + ".1"
	if fi, err := os.Stat(old); err == nil && fi.ModTime().Before(cutoff) {
		os.Remove(old)
	}
}

// perms returns the modes of stats/ and its files: the store's (see
// store.Access). Private, unless the store directory is shared with its
// group (setgid and group-writable, which only GROVE_SHARED_STORE=group
// makes), so that every member can append.
func perms(storeDir string) (dir, file fs.FileMode, group bool) {
	const shared = fs.ModeSetgid | 0o070
	if fi, err := os.Stat(storeDir); err == nil && fi.Mode()&shared == shared {
		return 0o770 | fs.ModeSetgid, 0o660, true
	}
	return 0o700, 0o600, false
}

// create creates the file p of the stats dir, and the dir, with the store's
// modes whatever the umask. A file another process created meanwhile is
// opened instead.
func create(storeDir, p string, flag int) (*os.File, error) {
	dmode, fmode, group := perms(storeDir)
	if err := os.Mkdir(filepath.Dir(p), dmode.Perm()); err == nil && group {
		os.Chmod(filepath.Dir(p), dmode) // Mkdir applies the umask and drops setgid
	} else if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	f, err := os.OpenFile(p, flag|os.O_CREATE|os.O_EXCL, fmode)
	if errors.Is(err, fs.ErrExist) {
		return os.OpenFile(p, flag, 0)
	}
	if err == nil && group {
		f.Chmod(fmode)
	}
	return f, err
}

// Read returns the events since the last Zero, oldest first.
func Read(storeDir string) ([]Event, error) {
	zero := int64(0)
	if b, err := os.ReadFile(zeroPath(storeDir)); err == nil {
		zero, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	var evs []Event
	for _, p := range []string{logPath(storeDir) + ".1", logPath(storeDir)} {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var ev Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Time >= zero {
				evs = append(evs, ev)
			}
		}
		f.Close()
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time < evs[j].Time })
	return evs, nil
}

// Zero makes later Reads start from now.
func Zero(storeDir string, now time.Time) error {
	p := zeroPath(storeDir)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = create(storeDir, p, os.O_WRONLY|os.O_TRUNC)
	}
	if err != nil {
		return fmt.Errorf("stats: zero: %w", err)
	}
	_, err = f.WriteString(strconv.FormatInt(now.UnixMilli(), 10) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stats: zero: %w", err)
	}
	return nil
}

// Summary is what `grove stats` reports.
type Summary struct {
	Invocations    int            `json:"invocations"`
	Hits           int            `json:"hits"`
	Misses         int            `json:"misses"`
	Uncacheable    int            `json:"uncacheable"`
	Errors         int            `json:"errors"`
	Failed         int            `json:"failed"`
	HitRate        float64        `json:"hit_rate"` // hits / (hits + misses)
	ByReason       map[string]int `json:"uncacheable_by_reason"`
	ErrorsByReason map[string]int `json:"errors_by_reason,omitempty"`
	TimeSavedMs    int64          `json:"time_saved_ms"`
	WrapperMsHit   float64        `json:"median_hit_ms"` // median wall time of the wrapper on a hit
	BytesRestored  int64          `json:"bytes_restored"`
	BytesShared    int64          `json:"bytes_deduplicated"` // restored by hardlink or reflink: no new data blocks
	Remote         map[string]int `json:"remote,omitempty"`   // local misses by what the remote cache did (Event.Remote)
	// RemoteMsHit is the median time a hit the remote served spent asking
	// it (Event.RemoteUs: manifest, fetch, verify, import): what a remote
	// hit costs over a local one.
	RemoteMsHit float64    `json:"median_remote_hit_ms,omitempty"`
	Runs        RunSummary `json:"build_script_runs"`
	CPU         CPUSummary `json:"cpu"`
	// MissPhases sums the phases of the misses: where a unit grove had to
	// compile spent its time besides rustc.
	MissPhases Phases `json:"miss_phases"`
}

// CPUSummary sums CPU time (user+sys, µs) over all events, units and
// build-script runs: what grove costs beside what it runs.
type CPUSummary struct {
	GroveUs   int64 `json:"grove_us"`         // grove's own (Event.CPUUs)
	RustcUs   int64 `json:"rustc_us"`         // rustc children of misses and failed compiles
	ScriptsUs int64 `json:"build_scripts_us"` // build scripts grove ran
	Measured  int   `json:"measured"`         // events that carry CPU (older ones do not)
}

// Phases sums the phases of events, in µs.
type Phases struct {
	N          int   `json:"n"`
	WallUs     int64 `json:"wall_us"`
	KeyUs      int64 `json:"key_us"`
	LookupUs   int64 `json:"lookup_us"`
	LockUs     int64 `json:"lock_us"`
	RemoteUs   int64 `json:"remote_us"`
	CompileUs  int64 `json:"compile_us"`
	StoreUs    int64 `json:"store_us"`
	ScanUs     int64 `json:"scan_us"` // part of StoreUs
	ChildCPUUs int64 `json:"child_cpu_us"`
	CPUUs      int64 `json:"cpu_us"`
}

func (p *Phases) add(ev Event) {
	p.N++
	p.WallUs += ev.Us
	p.KeyUs += ev.KeyUs
	p.LookupUs += ev.LookupUs
	p.LockUs += ev.LockUs
	p.RemoteUs += ev.RemoteUs
	p.CompileUs += ev.CompileUs
	p.StoreUs += ev.StoreUs
	p.ScanUs += ev.ScanUs
	p.ChildCPUUs += ev.ChildCPUUs
	p.CPUUs += ev.CPUUs
}

func (c *CPUSummary) add(ev Event) {
	if ev.CPUUs == 0 && ev.ChildCPUUs == 0 {
		return
	}
	c.Measured++
	c.GroveUs += ev.CPUUs
	if ev.Run {
		c.ScriptsUs += ev.ChildCPUUs
	} else {
		c.RustcUs += ev.ChildCPUUs
	}
}

// RunSummary sums build-script runs (Event.Run).
type RunSummary struct {
	Replayed    int            `json:"replayed"`
	Stored      int            `json:"stored"`     // ran, and stored
	NotStored   int            `json:"not_stored"` // ran, not stored (ByReason)
	Errors      int            `json:"errors"`     // grove failed and ran the script as given
	Failed      int            `json:"failed"`     // the script failed
	ByReason    map[string]int `json:"not_stored_by_reason,omitempty"`
	TimeSavedMs int64          `json:"time_saved_ms"`
	MedianMs    float64        `json:"median_replay_ms"` // grove's wall time per replayed run
	// Remote counts local run misses by what the remote cache did
	// (Event.Remote), as Summary.Remote does for compiles.
	Remote map[string]int `json:"remote,omitempty"`
}

// tempName matches the random part of a temp file's name: the store's
// tmp/blob-*, tmp/obj-*, and atomicfile's and Materialize's .grove-tmp-*.
// Compiled on first use, not at init: every wrapper process links this
// package (to append its event) and never groups reasons.
var tempName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(/tmp/(?:blob|obj)-|\.grove-tmp-)[0-9a-z]+`)
})

// digestName matches a blob digest or key (grove's are 64 hex digits).
var digestName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b[0-9a-f]{64}\b`) })

// GroupReason is the summary's key for a reason: one failure met by many
// units (a full disk: "store: put blob <digest>: open <store>/tmp/blob-<random>:
// no space left on device") differs per unit only in digests and temp names,
// and counts as one reason. Events keep the reason whole (explain shows it).
func GroupReason(r string) string {
	if !strings.ContainsAny(r, "0123456789") {
		return r
	}
	r = tempName().ReplaceAllString(r, "${1}*")
	return digestName().ReplaceAllString(r, "<digest>")
}

// Summarize adds up events.
func Summarize(evs []Event) Summary {
	s := Summary{ByReason: map[string]int{}, ErrorsByReason: map[string]int{}}
	var hitUs, remoteUs, runUs []int64
	for _, ev := range evs {
		s.CPU.add(ev)
		if ev.Run {
			s.Runs.add(ev)
			if ev.Kind == Hit {
				runUs = append(runUs, ev.Us)
			}
			continue
		}
		s.Invocations++
		if ev.Remote != "" {
			if s.Remote == nil {
				s.Remote = map[string]int{}
			}
			s.Remote[ev.Remote]++
			if ev.Remote == "hit" && ev.Kind == Hit {
				remoteUs = append(remoteUs, ev.RemoteUs)
			}
		}
		switch ev.Kind {
		case Hit:
			s.Hits++
			s.TimeSavedMs += ev.SavedMs
			s.BytesRestored += ev.Bytes
			s.BytesShared += ev.SharedBytes
			hitUs = append(hitUs, ev.Us)
		case Miss:
			s.Misses++
			s.MissPhases.add(ev)
		case Uncacheable:
			s.Uncacheable++
			s.ByReason[GroupReason(ev.Reason)]++
		case Error:
			s.Errors++
			s.ErrorsByReason[GroupReason(ev.Reason)]++
		case Failed:
			s.Failed++
		}
	}
	if n := s.Hits + s.Misses; n > 0 {
		s.HitRate = float64(s.Hits) / float64(n)
	}
	s.WrapperMsHit = medianMs(hitUs)
	s.RemoteMsHit = medianMs(remoteUs)
	s.Runs.MedianMs = medianMs(runUs)
	return s
}

func (r *RunSummary) add(ev Event) {
	if ev.Remote != "" {
		if r.Remote == nil {
			r.Remote = map[string]int{}
		}
		r.Remote[ev.Remote]++
	}
	switch ev.Kind {
	case Hit:
		r.Replayed++
		r.TimeSavedMs += ev.SavedMs
	case Miss:
		r.Stored++
	case Uncacheable:
		r.NotStored++
		if r.ByReason == nil {
			r.ByReason = map[string]int{}
		}
		r.ByReason[GroupReason(ev.Reason)]++
	case Error:
		r.Errors++
	case Failed:
		r.Failed++
	}
}

// medianMs is the median of microsecond durations, in ms (0 for none).
func medianMs(us []int64) float64 {
	if len(us) == 0 {
		return 0
	}
	sort.Slice(us, func(i, j int) bool { return us[i] < us[j] })
	return float64(us[len(us)/2]) / 1000
}

// NewestOf returns the newest event of crate, in whatever build, as a
// one-element list (none when the crate was never built).
func NewestOf(evs []Event, crate string) []Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Crate == crate && !evs[i].Run {
			return []Event{evs[i]}
		}
	}
	return nil
}

// LastBuild returns the events of the most recent build (those sharing the
// newest event's Cargo pid), optionally only for one crate.
func LastBuild(evs []Event) []Event {
	if len(evs) == 0 {
		return nil
	}
	last := evs[len(evs)-1].Build
	var out []Event
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Build != last {
			break
		}
		out = append(out, evs[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
