package bench

import (
	"context"
	"path/filepath"
	"time"

	"github.com/grove-rs/grove/internal/bench/measure"
	"github.com/grove-rs/grove/internal/bench/report"
)

// strategy is one way of building many worktrees. Each session gets a new
// strategy value with a private, empty dir, so strategies (and rounds)
// can never help each other.
type strategy interface {
	// setup prepares the private state under dir, which exists and is empty.
	setup(ctx context.Context, dir string) error
	// env returns the variables a build in the workspace dir tree gets on
	// top of the cleaned environment (see baseEnv).
	env(tree string) map[string]string
	// stores lists the dirs besides the worktrees' own target dirs that
	// hold the strategy's build outputs: a shared target dir, a cache.
	stores() []string
	// prepare returns a command to run in a new worktree before its first
	// build (seeding), or nil; it is measured as part of that build.
	prepare(tree string) *measure.Command
	// counters returns the strategy's cache counters so far, or nil.
	counters(ctx context.Context) *report.Cache
	// outside returns the CPU used so far and the peak RSS of processes
	// that work for the build but are not its children (a cache server).
	outside() (time.Duration, int64)
	// idle waits until the strategy's own work on tree that outlives a
	// build (a background compile) has ended.
	idle(ctx context.Context, tree string) error
	// teardown stops what setup started. It must work after cancellation.
	teardown() error
	// otherMachine moves the strategy to a second machine (the
	// other-machine scenario): empty local state under dir, which exists
	// and is empty; only a remote cache, if the strategy has one, is the
	// same.
	otherMachine(ctx context.Context, dir string) error
}

// cleanedVars are removed from the user's environment before any build:
// each would redirect outputs or wrap rustc behind the strategy's back.
func cleanedVars() []string {
	return []string{
		"CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "CARGO_BUILD_BUILD_DIR",
		"RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER",
		"RUSTC_WORKSPACE_WRAPPER", "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
		"GROVE_DIR", "SCCACHE_DIR", "SCCACHE_SERVER_PORT", "SCCACHE_IDLE_TIMEOUT",
		// Remote caches: the user's must never be read or written, and
		// the remote strategies set their own.
		"GROVE_REMOTE", "GROVE_REMOTE_ENDPOINT", "GROVE_REMOTE_READONLY", "GROVE_REMOTE_SECRET", "GROVE_REMOTE_IDLE",
		"SCCACHE_CONF", "SCCACHE_BUCKET", "SCCACHE_ENDPOINT", "SCCACHE_REGION", "SCCACHE_S3_KEY_PREFIX",
		"SCCACHE_S3_USE_SSL", "SCCACHE_S3_NO_CREDENTIALS", "SCCACHE_REDIS", "SCCACHE_MEMCACHED",
		"SCCACHE_GCS_BUCKET", "SCCACHE_AZURE_CONNECTION_STRING", "SCCACHE_GHA_ENABLED", "SCCACHE_WEBDAV_ENDPOINT",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	}
}

// baseEnv is the environment of every build: the user's, minus
// cleanedVars, with wrappers explicitly off and Cargo's progress bar off.
// The wrappers are set to "" rather than left unset because environment
// variables win over Cargo config files (a user's build.rustc-wrapper =
// "grove" must not leak into plain), and Cargo reads "" as "no wrapper".
func baseEnv(environ []string) []string {
	return measure.Env(environ, map[string]string{
		"RUSTC_WRAPPER":            "",
		"RUSTC_WORKSPACE_WRAPPER":  "",
		"CARGO_TERM_PROGRESS_WHEN": "never",
	}, cleanedVars()...)
}

// ownTarget is the env of a strategy where each worktree has its own
// target dir, <tree>/target. It is set explicitly so a target-dir or
// build-dir in the user's Cargo config cannot turn plain into shared. The
// value is relative (Cargo resolves it against its cwd, the workspace
// dir) so that a tool run with this env that looks at other worktrees,
// like `grove seed` looking for a donor, finds each one's own target dir.
func ownTarget(string) map[string]string {
	return map[string]string{"CARGO_BUILD_TARGET_DIR": "target", "CARGO_BUILD_BUILD_DIR": "target"}
}

// noExtras gives a strategy without a cache or daemon its no-op methods.
type noExtras struct{}

func (noExtras) prepare(string) *measure.Command        { return nil }
func (noExtras) counters(context.Context) *report.Cache { return nil }
func (noExtras) outside() (time.Duration, int64)        { return 0, 0 }
func (noExtras) teardown() error                        { return nil }
func (noExtras) idle(context.Context, string) error     { return nil }

// plainStrategy is Cargo as it comes: every worktree its own target/.
type plainStrategy struct{ noExtras }

func (*plainStrategy) setup(context.Context, string) error { return nil }
func (*plainStrategy) env(tree string) map[string]string   { return ownTarget(tree) }
func (*plainStrategy) stores() []string                    { return nil }

// otherMachine has nothing to move: each new worktree has its own target/.
func (*plainStrategy) otherMachine(context.Context, string) error { return nil }

// sharedStrategy is the seed's setup: one target dir for all worktrees.
// The env var is equivalent to the seed's build.target-dir config.
type sharedStrategy struct {
	noExtras
	dir string
}

func (s *sharedStrategy) setup(_ context.Context, dir string) error {
	s.dir = filepath.Join(dir, "shared-target")
	return nil
}

func (s *sharedStrategy) env(string) map[string]string {
	return map[string]string{"CARGO_BUILD_TARGET_DIR": s.dir, "CARGO_BUILD_BUILD_DIR": s.dir}
}

func (s *sharedStrategy) stores() []string { return []string{s.dir} }

func (s *sharedStrategy) otherMachine(ctx context.Context, dir string) error {
	return s.setup(ctx, dir)
}
