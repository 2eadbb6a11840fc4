package cargoconfig

import (
	"fmt"
	"os"
	"path/filepath"

	toml "github.com/pelletier/go-toml/v2"
)

// EnvVar returns the value of the environment variable name as a process
// Cargo starts for a build in dir (rustc, the rustc-wrapper, a build
// script) would see it, and where it came from: the environment, or the
// `[env]` table of a Cargo config file.
//
// Cargo's rules (checked with cargo 1.95): an `[env]` entry does not
// override a variable already set in the environment unless it has
// `force = true`; the closest config file defining the name wins; an entry
// is a string or a table `{ value, force, relative }`, and with
// `relative = true` the value is a path relative to the directory that
// holds the `.cargo/` dir. source is "environment" or the config file;
// found is false when neither sets it.
func EnvVar(dir string, env Env, name string) (value, source string, found bool, err error) {
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", false, fmt.Errorf("resolve %s: %w", dir, err)
	}
	files, err := ConfigFiles(dir, env)
	if err != nil {
		return "", "", false, err
	}
	for _, f := range files {
		e, ok, err := readEnvEntry(f, name)
		if err != nil {
			return "", "", false, err
		}
		if !ok {
			continue
		}
		if v, set := lookupEnv(env, name); set && !e.Force {
			return v, "environment", true, nil
		}
		v := e.Value
		if e.Relative {
			v = filepath.Join(filepath.Dir(filepath.Dir(f)), v)
		}
		return v, f, true, nil
	}
	if v, set := lookupEnv(env, name); set {
		return v, "environment", true, nil
	}
	return "", "", false, nil
}

// lookupEnv treats an empty value as unset, as Env does.
func lookupEnv(env Env, name string) (string, bool) {
	v := env(name)
	return v, v != ""
}

type envEntry struct {
	Value    string
	Force    bool
	Relative bool
}

// readEnvEntry returns env.<name> of one config file.
func readEnvEntry(path, name string) (envEntry, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return envEntry{}, false, err
	}
	var m struct {
		Env map[string]any `toml:"env"`
	}
	if err := toml.Unmarshal(data, &m); err != nil {
		return envEntry{}, false, &MalformedError{Path: path, Err: err}
	}
	raw, ok := m.Env[name]
	if !ok {
		return envEntry{}, false, nil
	}
	switch v := raw.(type) {
	case string:
		return envEntry{Value: v}, true, nil
	case map[string]any:
		var e envEntry
		var okValue bool
		e.Value, okValue = v["value"].(string)
		e.Force, _ = v["force"].(bool)
		e.Relative, _ = v["relative"].(bool)
		if okValue {
			return e, true, nil
		}
	}
	return envEntry{}, false, fmt.Errorf("%s: env.%s is neither a string nor a table with a string value", path, name)
}
