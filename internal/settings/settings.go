// Package settings reads grove's configuration. Everything is an
// environment variable, so it can be set per shell, per CI job, or per
// repository through Cargo's own `[env]` table in .cargo/config.toml (Cargo
// passes [env] to the wrapper).
package settings

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Settings is grove's configuration for one process.
type Settings struct {
	Dir        string   // GROVE_DIR: the store
	Disable    bool     // GROVE_DISABLE=1: pass every invocation straight to rustc
	Log        string   // GROVE_LOG: file to append a line per invocation to
	Verify     bool     // GROVE_VERIFY=1: on a hit, also compile and compare
	Exclude    []string // GROVE_EXCLUDE: crate names never cached
	ExtraEnv   []string // GROVE_EXTRA_ENV: env vars that are inputs of every unit
	ExtraFiles []string // GROVE_EXTRA_FILES: globs, relative to each unit's CARGO_MANIFEST_DIR, hashed into its key
	Shared     string   // GROVE_SHARED_STORE: "group" shares the store with its directory's group (see store.ParseAccess)
	// CacheBuildScripts (GROVE_CACHE_BUILD_SCRIPTS, default on; 0 turns
	// it off): build-script runs are cached too (package buildscript), so
	// a worktree nothing seeded does not run every script again. On by
	// default since a run is replayed only when all it can read is keyed
	// (internal/key/buildrun.go) and the corpus differential showed no
	// difference from plain cargo (README, "Build-script runs").
	CacheBuildScripts bool
	MaxSize           string // GROVE_MAX_SIZE: the store's size cap (parsed by trim.Limits)
	MaxAge            string // GROVE_MAX_AGE: how long an unused entry is kept (parsed by trim.Limits)
	AutoTrim          bool   // GROVE_AUTO_TRIM, default on: trim the store in the background at most hourly after a miss
	CPUProfile        string // GROVE_CPUPROFILE: dir to write a CPU profile of each wrapper invocation to
	// Warm (GROVE_WARM_INCREMENTAL, on unless 0): give a restored or
	// seeded workspace member this tree's incremental state in the
	// background (package incr), so the first edit after a new worktree
	// costs what it costs with plain cargo. It costs a compile of each
	// such member, at the lowest CPU priority, one at a time per user,
	// giving way to any build of the tree: cheaper than the cold build
	// plain cargo makes in a new worktree, and spent while nobody waits.
	Warm bool
}

// Var is one setting: its variable and what it does, for `grove config`.
type Var struct {
	Name string
	Doc  string
	// Secret: the value is a credential, never shown; URL: the value is a
	// URL that may hold a password, shown without it (Var.Show).
	Secret, URL bool
}

// Show is the value as `grove config` may print it.
func (v Var) Show(val string) string {
	switch {
	case val == "":
		return ""
	case v.Secret:
		return "(set, hidden)"
	case v.URL:
		if u, err := url.Parse(val); err == nil {
			return u.Redacted()
		}
		return "(set, hidden: not a URL)"
	}
	return val
}

// Vars lists every setting grove reads (the remote's are read by package
// remote, the rest by FromEnv), in the README's order.
var Vars = []Var{
	{Name: "GROVE_DIR", Doc: "the store; default $XDG_CACHE_HOME/grove, else ~/.cache/grove"},
	{Name: "GROVE_DISABLE", Doc: "1: pass every invocation straight to rustc"},
	{Name: "GROVE_LOG", Doc: "file to append one line per invocation to"},
	{Name: "GROVE_EXCLUDE", Doc: "crates (by name) never cached"},
	{Name: "GROVE_EXTRA_ENV", Doc: "env vars that are inputs of every unit"},
	{Name: "GROVE_EXTRA_FILES", Doc: "globs, relative to each unit's CARGO_MANIFEST_DIR, that are inputs of that unit"},
	{Name: "GROVE_VERIFY", Doc: "1: on every hit also compile and compare"},
	{Name: "GROVE_SHARED_STORE", Doc: "group: share the store with its directory's group"},
	{Name: "GROVE_CACHE_BUILD_SCRIPTS", Doc: "0: do not cache build-script runs (on by default)"},
	{Name: "GROVE_MAX_SIZE", Doc: "size cap of the store (bytes only it holds), e.g. 20GiB; default 10GiB"},
	{Name: "GROVE_MAX_AGE", Doc: "entries unused for longer are removed, e.g. 720h or 14d; default 30d"},
	{Name: "GROVE_AUTO_TRIM", Doc: "0: never trim in the background (run grove clean yourself)"},
	{Name: "GROVE_CPUPROFILE", Doc: "dir: write a CPU profile (pprof) of each wrapper invocation there"},
	{Name: "GROVE_WARM_INCREMENTAL", Doc: "0 turns off: after restoring or seeding a workspace member, compile it in the background at low priority, one at a time, giving way to any build, so the first edit is incremental"},
	{Name: "GROVE_REMOTE", Doc: "remote cache: s3://BUCKET/PREFIX, redis://HOST:PORT/DB, rediss://…, file:///DIR", URL: true},
	{Name: "GROVE_REMOTE_ENDPOINT", Doc: "S3 endpoint for R2, GCS or MinIO; unset: AWS S3"},
	{Name: "GROVE_REMOTE_READONLY", Doc: "1: never write to the remote"},
	{Name: "GROVE_REMOTE_SECRET", Doc: "HMAC key: records written are signed, records read must be", Secret: true},
	{Name: "GROVE_REMOTE_IDLE", Doc: "how long the remote agent stays up unused; default 5m"},
}

// FromEnv reads settings from a getenv function (os.Getenv in production).
func FromEnv(getenv func(string) string) Settings {
	s := Settings{
		Dir:        getenv("GROVE_DIR"),
		Disable:    truthy(getenv("GROVE_DISABLE")),
		Log:        getenv("GROVE_LOG"),
		Verify:     truthy(getenv("GROVE_VERIFY")),
		Exclude:    list(getenv("GROVE_EXCLUDE")),
		ExtraEnv:   list(getenv("GROVE_EXTRA_ENV")),
		ExtraFiles: list(getenv("GROVE_EXTRA_FILES")),
		Shared:     getenv("GROVE_SHARED_STORE"),

		CacheBuildScripts: !falsy(getenv("GROVE_CACHE_BUILD_SCRIPTS")),
		MaxSize:           getenv("GROVE_MAX_SIZE"),
		MaxAge:            getenv("GROVE_MAX_AGE"),
		AutoTrim:          !falsy(getenv("GROVE_AUTO_TRIM")),
		CPUProfile:        getenv("GROVE_CPUPROFILE"),
		Warm:              !falsy(getenv("GROVE_WARM_INCREMENTAL")),
	}
	if s.Dir == "" {
		s.Dir = DefaultDir(getenv)
	}
	return s
}

// Check reports a setting no build can use: a relative GROVE_DIR or
// GROVE_LOG. Cargo runs the wrapper in each package's own dir (the
// workspace root, a registry crate's source dir), so a relative path would
// name a different store or log for each package and write into package
// sources; a build script without rerun-if-changed then reruns on every
// build, as its package's files keep changing. Cargo's
// `[env] GROVE_DIR = { value = "...", relative = true }` makes a path
// relative to the config file absolute.
func (s Settings) Check() error {
	for _, v := range []struct{ name, path string }{{"GROVE_DIR", s.Dir}, {"GROVE_LOG", s.Log}} {
		if v.path != "" && !filepath.IsAbs(v.path) {
			return fmt.Errorf("%s=%s is not an absolute path (Cargo runs grove in each package's dir, so it would name a different one for each)", v.name, v.path)
		}
	}
	return nil
}

// DefaultDir is the per-user store: $XDG_CACHE_HOME/grove, else
// ~/.cache/grove, the place Linux users expect caches to live.
func DefaultDir(getenv func(string) string) string {
	if x := getenv("XDG_CACHE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "grove")
	}
	home := getenv("HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	if home == "" {
		return filepath.Join(os.TempDir(), "grove-cache")
	}
	return filepath.Join(home, ".cache", "grove")
}

// Excluded reports whether crate is excluded from caching.
func (s Settings) Excluded(crate string) bool {
	for _, e := range s.Exclude {
		if e == crate || strings.ReplaceAll(e, "-", "_") == crate {
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// falsy reports an explicit "off" (unset is not).
func falsy(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && !truthy(v)
}

func list(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
