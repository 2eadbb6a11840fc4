package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/spf13/cobra"
)

// buildEnv returns the environment a build started in dir hands the
// wrapper: this process's, with Cargo's `[env]` tables applied. The
// commands that read the store (stats, explain, clean, config) use it, so a
// GROVE_DIR set in a Cargo config is the store they look at, as it is for
// the builds.
func buildEnv(dir string) func(string) string {
	return func(name string) string {
		v, _, _, err := cargoconfig.EnvVar(dir, os.Getenv, name)
		if err != nil {
			return os.Getenv(name)
		}
		return v
	}
}

// setting is one line of `grove config`.
type setting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"` // "environment", a config file, "default", "unset"
	Doc    string `json:"doc"`
}

// configSettings resolves every grove setting, and the Cargo settings grove
// depends on, for a build started in dir.
func configSettings(dir string) ([]setting, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var out []setting
	resolved := settings.FromEnv(buildEnv(dir))
	for _, v := range settings.Vars {
		val, src, found, err := cargoconfig.EnvVar(dir, os.Getenv, v.Name)
		if err != nil {
			return nil, err
		}
		switch {
		case v.Name == "GROVE_DIR" && !found:
			val, src = resolved.Dir, "default"
		case !found:
			src = "unset"
		}
		val = v.Show(val)
		out = append(out, setting{v.Name, val, src, v.Doc})
	}
	for _, c := range []struct{ env, key, doc string }{
		{"RUSTC_WRAPPER", "rustc-wrapper", `cache mode when "grove"`},
		{"RUSTC_WORKSPACE_WRAPPER", "rustc-workspace-wrapper", "run uncached in front of rustc for workspace members"},
	} {
		s := setting{Name: "build." + c.key, Source: "unset", Doc: c.doc}
		if v := os.Getenv(c.env); v != "" {
			s.Value, s.Source = v, "environment ("+c.env+")"
		} else if v, src, found, err := cargoconfig.Lookup(dir, os.Getenv, "build", c.key); err != nil {
			return nil, err
		} else if found {
			s.Value, s.Source = v, src
			if !filepath.IsAbs(src) { // CARGO_BUILD_RUSTC_WRAPPER, ...
				s.Source = "environment (" + src + ")"
			}
		}
		out = append(out, s)
	}
	td := setting{Name: "build.target-dir", Doc: "where this worktree's builds go"}
	if v, src, err := cargoconfig.TargetDir(dir, os.Getenv); err != nil {
		td.Source = "unknown: " + err.Error()
	} else {
		td.Value, td.Source = v, src
		if src == cargoconfig.SourceEnvTargetDir || src == cargoconfig.SourceEnvBuildTargetDir {
			td.Source = "environment (" + src + ")"
		}
	}
	return append(out, td), nil
}

func newConfigCmd() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "config [NAME...]",
		Short: "Print every setting with its value and where it came from",
		Long: `Print grove's settings (the GROVE_* variables) and the Cargo settings grove
depends on, as a build started in this directory sees them: each with its
value and its source, the environment, a Cargo config file (its [env] table
for GROVE_* variables: Cargo hands those to the wrapper), or the default.

With names, print only their values, one a line, as go env does.`,
		Example: `  grove config
  grove config GROVE_DIR
  grove config --json`,
		RunE: func(cmd *cobra.Command, names []string) error {
			if dir == "" {
				dir = "."
			}
			all, err := configSettings(dir)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(names) > 0 {
				byName := map[string]setting{}
				for _, s := range all {
					byName[s.Name] = s
				}
				for _, n := range names {
					s, ok := byName[n]
					if !ok {
						return cli.Usagef("unknown setting %q (see grove config)", n)
					}
					fmt.Fprintln(w, s.Value)
				}
				return nil
			}
			return cli.Print(w, asJSON, all, func(w io.Writer) { printSettings(w, all) })
		},
	}
	addDirFlag(c, &dir)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printSettings(w io.Writer, all []setting) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE\tSOURCE")
	for _, s := range all {
		v := s.Value
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, v, s.Source)
	}
	tw.Flush()
}
