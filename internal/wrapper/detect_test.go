package wrapper

import (
	"reflect"
	"testing"
)

func TestDetect(t *testing.T) {
	commands := map[string]bool{"bench": true, "seed": true, "explain": true, "init": true}
	isCommand := func(s string) bool { return commands[s] }
	for _, tc := range []struct {
		args []string
		want *Call // nil: a CLI command line
	}{
		{[]string{"grove"}, nil},
		{[]string{"grove", "init"}, nil},
		{[]string{"grove", "init", "--shared"}, nil},
		{[]string{"grove", "bench", "/some/repo"}, nil},
		{[]string{"grove", "seed", "--from=../b"}, nil},
		{[]string{"grove", "explain", "rustc"}, nil},
		{[]string{"grove", "mywrap"}, nil},
		{[]string{"grove", "mywrap", "x"}, nil},
		{[]string{"grove", "/tc/bin/rustc", "-vV"}, &Call{Rustc: "/tc/bin/rustc", Args: []string{"-vV"}}},
		{[]string{"grove", "rustc", "--crate-name", "a"}, &Call{Rustc: "rustc", Args: []string{"--crate-name", "a"}}},
		{[]string{"grove", "rustc-1.95", "-"}, &Call{Rustc: "rustc-1.95", Args: []string{"-"}}},
		{[]string{"grove", "./my-compiler", "-vV"}, &Call{Rustc: "./my-compiler", Args: []string{"-vV"}}},
		{[]string{"grove", "clippy-driver", "-vV"}, &Call{Rustc: "clippy-driver", Args: []string{"-vV"}}},
		{[]string{"grove", "mywrap", "/tc/bin/rustc", "--crate-name", "a"},
			&Call{Workspace: "mywrap", Rustc: "/tc/bin/rustc", Args: []string{"--crate-name", "a"}}},
		{[]string{"grove", "mywrap", "rustc", "-vV"}, &Call{Workspace: "mywrap", Rustc: "rustc", Args: []string{"-vV"}}},
		{[]string{"grove", "/tc/bin/clippy-driver", "/tc/bin/rustc", "-"},
			&Call{Workspace: "/tc/bin/clippy-driver", Rustc: "/tc/bin/rustc", Args: []string{"-"}}},
		{[]string{"grove", "/usr/bin/cargo", "/opt/my-compiler", "-vV"},
			&Call{Workspace: "/usr/bin/cargo", Rustc: "/opt/my-compiler", Args: []string{"-vV"}}},
		{[]string{"grove", "/tc/bin/rustc", "rustc.rs"}, &Call{Rustc: "/tc/bin/rustc", Args: []string{"rustc.rs"}}},
		// RUSTC set to a bare name on PATH; a typo of a subcommand is not one.
		{[]string{"grove", "sh", "-vV"}, &Call{Rustc: "sh", Args: []string{"-vV"}}},
		{[]string{"grove", "stauts", "--json"}, nil},
		{[]string{"grove", "seed", "--dry-run"}, nil},
		{[]string{"grove", "init", "--shared"}, nil},
		// A workspace wrapper named like a grove subcommand is taken for
		// the subcommand only when bare; a path is always a program.
		{[]string{"grove", "./bench", "rustc", "-vV"}, &Call{Workspace: "./bench", Rustc: "rustc", Args: []string{"-vV"}}},
	} {
		got, ok := Detect(tc.args, isCommand)
		switch {
		case tc.want == nil && ok:
			t.Errorf("%q: wrapper call %+v, want CLI", tc.args, got)
		case tc.want != nil && !ok:
			t.Errorf("%q: CLI, want %+v", tc.args, *tc.want)
		case tc.want != nil && !reflect.DeepEqual(got, *tc.want):
			t.Errorf("%q: %+v, want %+v", tc.args, got, *tc.want)
		}
	}
}
