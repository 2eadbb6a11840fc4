package cargolayout

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// Metadata is the part of `cargo metadata --format-version 1` grove reads.
// It is grove's one reader of that command: where outputs go (Resolve),
// where packages come from (seed), which member to edit (bench).
type Metadata struct {
	TargetDirectory string `json:"target_directory"`
	// BuildDirectory is set since Cargo 1.91; an older Cargo builds into
	// the target dir.
	BuildDirectory   string    `json:"build_directory"`
	Packages         []Package `json:"packages"`
	WorkspaceMembers []string  `json:"workspace_members"`
}

// Package is one package of the build.
type Package struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Source is nil for a package on disk (members, path dependencies),
	// else its registry or git source.
	Source       *string      `json:"source"`
	ManifestPath string       `json:"manifest_path"`
	Links        *string      `json:"links"` // the native library a build script links, if declared
	Dependencies []Dependency `json:"dependencies"`
	Targets      []Target     `json:"targets"`
}

// Dependency is one declared dependency of a package.
type Dependency struct {
	Name string  `json:"name"`
	Path *string `json:"path"` // set for a path dependency
	Kind *string `json:"kind"` // nil for a normal dependency, else "dev" or "build"
}

// Target is one target (lib, bin, build script, ...) of a package.
type Target struct {
	Kind    []string `json:"kind"`
	SrcPath string   `json:"src_path"`
}

// ReadMetadata runs `cargo metadata --format-version 1 --offline` in dir
// (cargo "" is the cargo on PATH; env nil is this process's), with
// --no-deps unless deps asks for the whole dependency graph.
func ReadMetadata(ctx context.Context, cargo, dir string, env []string, deps bool) (*Metadata, error) {
	if cargo == "" {
		cargo = "cargo"
	}
	args := []string{"metadata", "--format-version", "1", "--offline"}
	if !deps {
		args = append(args, "--no-deps")
	}
	cmd := exec.CommandContext(ctx, cargo, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cargo metadata in %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	var md Metadata
	if err := json.Unmarshal(out, &md); err != nil {
		return nil, fmt.Errorf("cargo metadata in %s: %w", dir, err)
	}
	return &md, nil
}
