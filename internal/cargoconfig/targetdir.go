package cargoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Env looks up an environment variable; "" means unset. os.Getenv fits.
type Env func(key string) string

// Sources of a resolved target dir, besides a config file's path.
const (
	SourceEnvTargetDir      = "CARGO_TARGET_DIR"
	SourceEnvBuildTargetDir = "CARGO_BUILD_TARGET_DIR"
	SourceDefault           = "default"
)

// ErrNoManifest is returned (wrapped) when no Cargo.toml is found, so the
// default target dir is undefined.
var ErrNoManifest = errors.New("no Cargo.toml found")

// TargetDir returns the target dir Cargo would use for a build started in
// dir, and where that setting came from: an environment variable name, a
// config file path, or SourceDefault.
//
// The order is Cargo's: CARGO_TARGET_DIR, then CARGO_BUILD_TARGET_DIR (env
// overrides config files), then `build.target-dir` from the config files
// found by walking from dir up through every parent and then
// $CARGO_HOME/config.toml, the first (closest) definition winning; else
// <workspace root>/target.
//
// Relative paths: an environment value is relative to dir (Cargo's cwd); a
// config value is relative to the parent of the directory holding the
// config file, i.e. the directory that contains `.cargo/` (Cargo's
// "config-relative paths"; checked with cargo 1.95 — not relative to the
// cwd, as the seed note claims). In a directory holding both `config` and
// `config.toml`, Cargo reads `config` (and warns), so does this.
func TargetDir(dir string, env Env) (path, source string, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	for _, name := range []string{SourceEnvTargetDir, SourceEnvBuildTargetDir} {
		if v := env(name); v != "" {
			return absFrom(dir, v), name, nil
		}
	}
	files, err := ConfigFiles(dir, env)
	if err != nil {
		return "", "", err
	}
	for _, f := range files {
		v, ok, err := readTargetDir(f)
		if err != nil {
			return "", "", err
		}
		if ok {
			if v == "" {
				return "", f, fmt.Errorf("%s: build.target-dir is an empty string", f)
			}
			return absFrom(filepath.Dir(filepath.Dir(f)), v), f, nil
		}
	}
	root, err := WorkspaceRoot(dir)
	if err != nil {
		return "", SourceDefault, err
	}
	return filepath.Join(root, "target"), SourceDefault, nil
}

func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// ConfigFiles lists the Cargo config files that apply to a build started
// in dir, highest priority first: `.cargo/config` or `.cargo/config.toml`
// in dir and each parent, then $CARGO_HOME's (not repeated when CARGO_HOME
// is one of those `.cargo` dirs).
func ConfigFiles(dir string, env Env) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(cargoDir string) {
		for _, name := range []string{"config", "config.toml"} {
			p := filepath.Join(cargoDir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				if !seen[cargoDir] {
					out = append(out, p)
					seen[cargoDir] = true
				}
				return
			}
		}
	}
	for d := dir; ; d = filepath.Dir(d) {
		add(filepath.Join(d, ".cargo"))
		if filepath.Dir(d) == d {
			break
		}
	}
	home, err := CargoHome(env)
	if err != nil {
		return out, nil // no CARGO_HOME, no HOME: nothing more to read
	}
	add(home)
	return out, nil
}

// CargoHome returns $CARGO_HOME, or ~/.cargo.
func CargoHome(env Env) (string, error) {
	if v := env("CARGO_HOME"); v != "" {
		return filepath.Abs(v)
	}
	home := env("HOME")
	if home == "" {
		return "", errors.New("neither CARGO_HOME nor HOME is set")
	}
	return filepath.Join(home, ".cargo"), nil
}

// readTargetDir returns build.target-dir from one config file.
func readTargetDir(path string) (string, bool, error) {
	return readString(path, []string{"build", "target-dir"})
}

// readString returns the string at a dotted path of one config file.
// go-toml merges `[build] k`, `build.k` and inline tables alike.
func readString(path string, key []string) (string, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false, err
	}
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		return "", false, &MalformedError{Path: path, Err: err}
	}
	var v any = m
	for _, k := range key {
		t, ok := v.(map[string]any)
		if !ok {
			return "", false, nil
		}
		if v, ok = t[k]; !ok {
			return "", false, nil
		}
	}
	s, ok := v.(string)
	if !ok {
		return "", false, fmt.Errorf("%s: %s is not a string", path, strings.Join(key, "."))
	}
	return s, true, nil
}

// Lookup returns the value Cargo would use for the string config key
// table.key (e.g. "build", "rustc-wrapper") in a build started in dir: the
// environment variable CARGO_<TABLE>_<KEY> first, then the closest config
// file that defines it. source is the variable name or the file; found is
// false when nothing defines it. Values are returned as written (no path
// resolution).
func Lookup(dir string, env Env, table, key string) (value, source string, found bool, err error) {
	name := "CARGO_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(table+"."+key))
	if v := env(name); v != "" {
		return v, name, true, nil
	}
	files, err := ConfigFiles(dir, env)
	if err != nil {
		return "", "", false, err
	}
	for _, f := range files {
		v, ok, err := readString(f, splitKey(table, key))
		if err != nil {
			return "", "", false, err
		}
		if ok {
			return v, f, true, nil
		}
	}
	return "", "", false, nil
}

// WorkspaceRoot returns the directory of the workspace root manifest for
// a build started in dir, found the way Cargo does without running it:
// the closest Cargo.toml at or above dir is the package (or a virtual
// workspace); if it has no [workspace] table, the closest ancestor
// manifest with a [workspace] whose members include it is the root;
// otherwise the package is its own root.
func WorkspaceRoot(dir string) (string, error) {
	var first string
	for d := dir; ; d = filepath.Dir(d) {
		m := filepath.Join(d, "Cargo.toml")
		if _, err := os.Stat(m); err == nil {
			first = d
			break
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s: %w (here or in any parent)", dir, ErrNoManifest)
		}
	}
	ws, err := readWorkspace(filepath.Join(first, "Cargo.toml"))
	if err != nil {
		return "", err
	}
	if ws != nil {
		return first, nil
	}
	for d := filepath.Dir(first); filepath.Dir(d) != d; d = filepath.Dir(d) {
		m := filepath.Join(d, "Cargo.toml")
		if _, err := os.Stat(m); err != nil {
			continue
		}
		ws, err := readWorkspace(m)
		if err != nil {
			return "", err
		}
		if ws != nil && ws.includes(d, first) {
			return d, nil
		}
	}
	return first, nil
}

type workspace struct {
	Members []string `toml:"members"`
	Exclude []string `toml:"exclude"`
}

func (w *workspace) includes(root, pkg string) bool {
	rel, err := filepath.Rel(root, pkg)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	for _, ex := range w.Exclude {
		if rel == strings.TrimSuffix(ex, "/") || strings.HasPrefix(rel, strings.TrimSuffix(ex, "/")+"/") {
			return false
		}
	}
	for _, pat := range w.Members {
		if ok, _ := filepath.Match(strings.TrimSuffix(pat, "/"), rel); ok {
			return true
		}
	}
	return false
}

func readWorkspace(manifest string) (*workspace, error) {
	data, err := os.ReadFile(manifest)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", manifest, err)
	}
	var m struct {
		Workspace *workspace `toml:"workspace"`
	}
	if err := toml.Unmarshal(data, &m); err != nil {
		return nil, &MalformedError{Path: manifest, Err: err}
	}
	return m.Workspace, nil
}
