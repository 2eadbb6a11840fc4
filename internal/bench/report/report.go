// Package report holds the results of a benchmark and renders them: the
// raw samples as JSON, a summary per scenario and strategy as a text table
// and as an SVG bar chart. It is pure: no I/O beyond the writers it gets.
package report

import "time"

// FormatVersion is bumped whenever a JSON field changes meaning.
const FormatVersion = 1

// Report is everything one `grove bench` produced; it is the JSON document.
type Report struct {
	FormatVersion int       `json:"format_version"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	Host          Host      `json:"host"`
	Repo          string    `json:"repo"`
	// From and To are the commits of the next-commit scenario; the other
	// scenarios build To.
	From       string     `json:"from,omitempty"`
	To         string     `json:"to"`
	EditFile   string     `json:"edit_file,omitempty"` // relative to the repository
	Runs       int        `json:"runs"`
	Parallel   int        `json:"parallel"`
	Scenarios  []string   `json:"scenarios"`
	Strategies []Strategy `json:"strategies"`
	Notes      []string   `json:"notes,omitempty"`
	Samples    []Sample   `json:"samples"`
	Summaries  []Summary  `json:"summaries"`
}

// Host describes the machine and toolchain, so figures can be compared.
type Host struct {
	OS    string `json:"os"`
	Arch  string `json:"arch"`
	CPUs  int    `json:"cpus"`
	Cargo string `json:"cargo"`
	Rustc string `json:"rustc"`
	Grove string `json:"grove"`
}

// Strategy says whether a requested strategy ran, and why not.
type Strategy struct {
	Name    string `json:"name"`
	Skipped bool   `json:"skipped,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Sample is one measured step: one scenario, one strategy, one run.
type Sample struct {
	Scenario    string  `json:"scenario"`
	Strategy    string  `json:"strategy"`
	Run         int     `json:"run"` // 1-based
	WallSeconds float64 `json:"wall_s"`
	UserSeconds float64 `json:"user_s"`
	SysSeconds  float64 `json:"sys_s"`
	// CPUSeconds is user+sys of the build's process tree plus, for
	// sccache, the CPU its server used meanwhile (it runs the compilers).
	CPUSeconds float64 `json:"cpu_s"`
	// OtherCPUSeconds is the CPU other processes of the machine used during
	// the step (from /proc/stat): high values mean inflated wall times.
	OtherCPUSeconds float64 `json:"other_cpu_s"`
	// PeakRSSBytes is the largest resident set of any single process of
	// the step (Linux rusage ru_maxrss).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Rustc is how many times rustc really ran: units Cargo compiled minus
	// those the strategy's cache served.
	Rustc         int `json:"rustc"`
	UnitsCompiled int `json:"units_compiled"`
	UnitsFresh    int `json:"units_fresh"`
	// Cache holds the strategy's own counters for this step, if it has any.
	Cache *Cache `json:"cache,omitempty"`
	// IdleSeconds is how long the step waited, before it started, for the
	// strategy's own background work on the tree to end (grove's
	// incremental warm-up after a restore); not part of WallSeconds.
	IdleSeconds float64 `json:"idle_s,omitempty"`
	// DiskBytes is the space all build outputs of the strategy take after
	// the step (target dirs and store), each inode counted once.
	DiskBytes int64 `json:"disk_bytes"`
	Worktrees int   `json:"worktrees"` // built worktrees when DiskBytes was taken
	// Remote is what a strategy with a remote cache moved in the step.
	Remote *Remote `json:"remote,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// Cache is a compile cache's counters for one step.
type Cache struct {
	Hits        int `json:"hits"`
	Misses      int `json:"misses"`
	Uncacheable int `json:"uncacheable"`
	// Remote counts grove's local misses by what its remote did ("hit",
	// "miss", "unavailable", "skipped", "refused", "no agent").
	Remote map[string]int `json:"remote,omitempty"`
	// HitMedianMs is grove's median wrapper time of a hit over the store's
	// life (not just this step): on the second machine of other-machine,
	// whose store starts empty, it is that step's, remote hits included.
	HitMedianMs float64 `json:"median_hit_ms,omitempty"`
	// RemoteHitMedianMs is, likewise, the median time a hit the remote
	// served spent asking it: a remote hit's cost over a local hit.
	RemoteHitMedianMs float64 `json:"median_remote_hit_ms,omitempty"`
	// Runs are grove's build-script runs over the store's life, like
	// HitMedianMs: replayed, run, and what the remote did for the local
	// run misses (on machine 2, a replayed run came from the remote).
	RunsReplayed int            `json:"runs_replayed,omitempty"`
	RunsRun      int            `json:"runs_run,omitempty"`
	RunsRemote   map[string]int `json:"runs_remote,omitempty"`
}

// Remote is the traffic of one step with the bench's S3 server, counted
// on the wire (HTTP included) by its proxy. For grove it includes the
// write-behind uploads finished after the build.
type Remote struct {
	UpBytes   int64 `json:"up_bytes"`
	DownBytes int64 `json:"down_bytes"`
	// FilledBytes, in other-machine, is what the first machine's build
	// (CI's) uploaded before it, measured or not.
	FilledBytes int64 `json:"filled_bytes,omitempty"`
}

// Summary condenses the samples of one scenario and strategy.
type Summary struct {
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	Runs     int    `json:"runs"`   // successful samples
	Failed   int    `json:"failed"` // failed samples
	Error    string `json:"error,omitempty"`

	WallMedian    float64 `json:"wall_median_s"`
	WallMin       float64 `json:"wall_min_s"`
	WallMax       float64 `json:"wall_max_s"`
	CPUMedian     float64 `json:"cpu_median_s"`
	PeakRSSMedian int64   `json:"peak_rss_median_bytes"`
	RustcMedian   float64 `json:"rustc_median"`
	CompiledMed   float64 `json:"units_compiled_median"`
	FreshMed      float64 `json:"units_fresh_median"`
	DiskMedian    int64   `json:"disk_median_bytes"`
	Worktrees     int     `json:"worktrees"`

	// With a remote (nil without): medians over the runs.
	RemoteUpMedian    *int64   `json:"remote_up_median_bytes,omitempty"`
	RemoteDownMedian  *int64   `json:"remote_down_median_bytes,omitempty"`
	RemoteFillMedian  *int64   `json:"remote_filled_median_bytes,omitempty"`
	RemoteHitsMedian  *float64 `json:"remote_hits_median,omitempty"`
	RemoteFailMedian  *float64 `json:"remote_failures_median,omitempty"` // unavailable, skipped, refused, no agent
	HitMsMedian       *float64 `json:"median_hit_ms_median,omitempty"`
	RemoteHitMsMedian *float64 `json:"median_remote_hit_ms_median,omitempty"`

	// VsPlain and VsShared divide this strategy's headline figure (median
	// wall time; disk bytes for the disk scenario) by plain's and shared's
	// in the same scenario: below 1 is better. Absent when there is no
	// baseline to divide by.
	VsPlain  *float64 `json:"vs_plain,omitempty"`
	VsShared *float64 `json:"vs_shared,omitempty"`
}

// DiskScenario is the scenario whose headline figure is bytes, not seconds.
const DiskScenario = "disk"

// Headline is the figure a summary is compared and charted by.
func (s Summary) Headline() float64 {
	if s.Scenario == DiskScenario {
		return float64(s.DiskMedian)
	}
	return s.WallMedian
}

// Failed counts the measured steps that failed: a bench with any is a
// failed bench (exit 1), its table still written.
func (r *Report) Failed() int {
	n := 0
	for _, s := range r.Samples {
		if s.Error != "" {
			n++
		}
	}
	return n
}
