package setup

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/cargolayout"
)

// buildDir returns the build dir of a build started in dir whose target dir
// is target: `build.build-dir` (CARGO_BUILD_BUILD_DIR, then the closest
// config file), else the target dir. Cargo keeps its units there — with a
// build dir apart from the target dir, a worktree's own target/ can be its
// live build dir while its artifacts go to the shared dir.
//
// A relative value is resolved as for target-dir (cargoconfig.TargetDir).
// A value with a template ({workspace-root}, {cargo-cache-home},
// {workspace-path-hash}) is Cargo's to expand, so Cargo is asked.
func buildDir(ctx context.Context, dir, target string, env cargoconfig.Env) (string, error) {
	v, src, ok, err := cargoconfig.Lookup(dir, env, "build", "build-dir")
	if err != nil || !ok || v == "" {
		return target, err
	}
	if strings.Contains(v, "{") {
		d, err := cargolayout.Resolve(ctx, "", dir, cargoEnviron(env))
		if err != nil {
			return "", err
		}
		return d.Build, nil
	}
	if filepath.IsAbs(v) {
		return filepath.Clean(v), nil
	}
	if src == "CARGO_BUILD_BUILD_DIR" {
		return filepath.Join(dir, v), nil
	}
	return filepath.Join(filepath.Dir(filepath.Dir(src)), v), nil
}

// cargoEnviron is this process's environment as env sees it, for running
// cargo: the variables Cargo reads for its dirs are taken from env.
func cargoEnviron(env cargoconfig.Env) []string {
	out := os.Environ()
	for _, k := range []string{"CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "CARGO_BUILD_BUILD_DIR"} {
		out = append(out, k+"="+env(k))
	}
	return out
}
