// Package rustc models one rustc command line as Cargo issues it: what it
// compiles, where its outputs go, which files and libraries it reads, and
// whether grove may cache it at all.
//
// The model is deliberately conservative: any option it does not understand
// well enough to key makes the invocation uncacheable, with a reason that
// `grove stats` reports. Caching less is slower; caching wrongly serves a
// stale artifact.
package rustc

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// Extern is one --extern NAME[=PATH].
type Extern struct {
	Name string
	Path string // empty for `--extern NAME` (a sysroot crate such as proc_macro)
}

// SearchPath is one -L [KIND=]PATH.
type SearchPath struct {
	Kind string // "dependency", "crate", "native", "framework", "all"
	Path string
}

// Lib is one -l [KIND[:MODIFIERS]=]NAME[:RENAME].
type Lib struct {
	Kind     string // "static", "dylib", "framework", "" (unspecified)
	Name     string
	Verbatim bool // +verbatim: Name is the file name, not lib<Name>.a
}

// Invocation is a parsed rustc command line.
type Invocation struct {
	Rustc string
	Args  []string

	CrateName     string
	CrateTypes    []string
	Emit          []string
	Input         string
	OutDir        string
	ExtraFilename string
	Incremental   string // -C incremental: rustc's state dir (package incr)
	Target        string
	Linker        string
	Test          bool // --test: a test harness, linked like a bin
	Externs       []Extern
	SearchPaths   []SearchPath
	Libs          []Lib
	LinkArgs      []string // -C link-arg / link-args values
	JSONArtifacts bool     // --json=...artifacts...: rustc prints artifact notifications

	// Uncacheable is non-empty when grove must run rustc as given; it
	// names the reason, e.g. "print query" or "crate-type staticlib".
	Uncacheable string

	// pluginLTO: -C linker-plugin-lto was passed; whether that makes the
	// unit uncacheable depends on its crate types (complete).
	pluginLTO bool
}

// Cacheable reports whether the invocation may be served from the store.
func (inv *Invocation) Cacheable() bool { return inv.Uncacheable == "" }

// valued lists the options that take their value as the next argument when
// it is not attached with '=' (long) or directly (short).
var valued = map[string]bool{
	"-l": true, "-L": true, "-C": true, "-Z": true, "-A": true, "-W": true, "-D": true, "-F": true,
	"-o": true, "--crate-type": true, "--crate-name": true, "--edition": true, "--emit": true,
	"--print": true, "--out-dir": true, "--explain": true, "--target": true, "--cap-lints": true,
	"--codegen": true, "--cfg": true, "--check-cfg": true, "--extern": true, "--sysroot": true,
	"--error-format": true, "--json": true, "--color": true, "--diagnostic-width": true,
	"--remap-path-prefix": true, "--force-warn": true, "--env-set": true, "--warn": true,
	"--allow": true, "--deny": true, "--forbid": true,
}

// Option is one command-line option with its value, after splitting the
// attached forms (`--emit=link`, `-Cdebuginfo=2`, `-Lnative=/x`).
type Option struct {
	Flag  string // "--emit", "-C", or "" for a positional argument
	Value string
}

// SplitOptions turns args into options. Unknown flags are kept as flags
// without a value; callers treat them conservatively.
func SplitOptions(args []string) []Option {
	var out []Option
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-" || !strings.HasPrefix(a, "-"):
			out = append(out, Option{Value: a})
		case strings.HasPrefix(a, "--"):
			if k, v, ok := strings.Cut(a, "="); ok {
				out = append(out, Option{Flag: k, Value: v})
			} else if valued[a] && i+1 < len(args) {
				out = append(out, Option{Flag: a, Value: args[i+1]})
				i++
			} else {
				out = append(out, Option{Flag: a})
			}
		default: // short option: -C opt, -Copt, -O, -g
			k := a[:2]
			if !valued[k] {
				out = append(out, Option{Flag: a})
			} else if len(a) > 2 {
				out = append(out, Option{Flag: k, Value: a[2:]})
			} else if i+1 < len(args) {
				out = append(out, Option{Flag: k, Value: args[i+1]})
				i++
			} else {
				out = append(out, Option{Flag: k})
			}
		}
	}
	return out
}

// Parse builds the model of `rustc args...`.
func Parse(rustc string, args []string) *Invocation {
	inv := &Invocation{Rustc: rustc, Args: args}
	var no []string // reasons, first one wins
	for _, a := range args {
		if strings.HasPrefix(a, "@") {
			no = append(no, "argument file (@file)")
		}
	}
	if filepath.Base(rustc) == "clippy-driver" {
		no = append(no, "clippy-driver")
	}
	inputs, reasons := inv.readOptions()
	no = append(no, reasons...)
	no = append(no, inv.complete(inputs)...)
	if len(no) > 0 {
		inv.Uncacheable = no[0]
	}
	return inv
}

// readOptions records what each option of inv.Args says, and returns the
// inputs (positional arguments) and the reasons, in order, that an option
// makes the unit uncacheable.
func (inv *Invocation) readOptions() (inputs, no []string) {
	for _, o := range SplitOptions(inv.Args) {
		switch o.Flag {
		case "":
			if !strings.HasPrefix(o.Value, "@") {
				inputs = append(inputs, o.Value)
			}
		case "--crate-name":
			inv.CrateName = o.Value
		case "--crate-type":
			for _, t := range strings.Split(o.Value, ",") {
				inv.CrateTypes = append(inv.CrateTypes, strings.TrimSpace(t))
			}
		case "--emit":
			for _, e := range strings.Split(o.Value, ",") {
				kind, path, hasPath := strings.Cut(e, "=")
				if hasPath && path != "" {
					no = append(no, "--emit with an explicit path")
				}
				inv.Emit = append(inv.Emit, kind)
			}
		case "--out-dir":
			inv.OutDir = o.Value
		case "-o":
			no = append(no, "explicit output file (-o)")
		case "--print":
			no = append(no, "print query")
		case "--explain":
			no = append(no, "--explain")
		case "--target":
			inv.Target = o.Value
		case "--test":
			inv.Test = true
		case "--extern":
			name, path, _ := strings.Cut(o.Value, "=")
			// `--extern priv:name=path`, `--extern noprelude:name`: keep the name only.
			if i := strings.LastIndexByte(name, ':'); i >= 0 {
				name = name[i+1:]
			}
			inv.Externs = append(inv.Externs, Extern{Name: name, Path: path})
		case "-L":
			kind, path, ok := strings.Cut(o.Value, "=")
			if !ok {
				kind, path = "all", o.Value
			}
			inv.SearchPaths = append(inv.SearchPaths, SearchPath{Kind: kind, Path: path})
		case "-l":
			inv.Libs = append(inv.Libs, parseLib(o.Value))
		case "--json":
			if strings.Contains(o.Value, "artifacts") {
				inv.JSONArtifacts = true
			}
		case "-C", "--codegen":
			k, v, _ := strings.Cut(o.Value, "=")
			switch k {
			case "extra-filename":
				inv.ExtraFilename = v
			case "incremental":
				inv.Incremental = v
			case "linker":
				inv.Linker = v
			case "link-arg":
				inv.LinkArgs = append(inv.LinkArgs, v)
			case "link-args":
				inv.LinkArgs = append(inv.LinkArgs, strings.Fields(v)...)
			case "split-debuginfo":
				if v != "off" {
					no = append(no, "-C split-debuginfo="+v)
				}
			case "linker-plugin-lto":
				// Decided below, once the crate types are known.
				inv.pluginLTO = true
			case "profile-generate", "profile-use", "save-temps", "remark", "dlltool":
				no = append(no, "-C "+k)
			}
		case "-Z":
			k, v, _ := strings.Cut(o.Value, "=")
			switch k {
			// Link arguments too, put before the others: keyed and
			// read for the linker they choose like -C link-arg.
			case "pre-link-arg":
				inv.LinkArgs = append(inv.LinkArgs, v)
			case "pre-link-args":
				inv.LinkArgs = append(inv.LinkArgs, strings.Fields(v)...)
			// codegen-backend and llvm-plugins load a shared library whose
			// content would not be in the key.
			case "self-profile", "dump-mir", "profile", "unpretty", "binary-dep-depinfo", "codegen-backend", "llvm-plugins":
				no = append(no, "-Z "+k)
			}
		}
	}
	return inputs, no
}

// complete picks the one input, fills in rustc's defaults for what was not
// passed, and returns the reasons, in order, that the whole command line
// is one grove cannot model.
func (inv *Invocation) complete(inputs []string) (no []string) {
	switch {
	case len(inputs) == 0:
		no = append(no, "no input file (query)")
	case len(inputs) > 1:
		no = append(no, "several input files")
	case inputs[0] == "-":
		no = append(no, "input from stdin")
	default:
		inv.Input = inputs[0]
	}
	if inv.CrateName == "" {
		no = append(no, "no --crate-name")
	}
	if inv.OutDir == "" {
		no = append(no, "no --out-dir")
	}
	if len(inv.Emit) == 0 {
		inv.Emit = []string{"link"} // rustc's default
	}
	if len(inv.CrateTypes) == 0 {
		// rustc's default without #![crate_type]; Cargo passes no
		// --crate-type for tests and benches with `harness = false`. An
		// attribute in the source could make it something else: rustc's
		// artifact notifications then name an output grove did not expect,
		// and the unit is not stored (wrapper's unexpectedArtifacts). Without
		// notifications that check is blind, so the unit is not cached.
		inv.CrateTypes = []string{"bin"}
		if inv.Input != "" && !inv.Test && !inv.JSONArtifacts {
			no = append(no, "no --crate-type")
		}
	}
	for _, e := range inv.Emit {
		switch e {
		case "link", "metadata", "dep-info":
		default:
			no = append(no, "--emit "+e)
		}
	}
	for _, t := range inv.CrateTypes {
		switch t {
		case "lib", "rlib", "bin", "proc-macro", "dylib", "cdylib", "staticlib":
		default:
			no = append(no, "crate-type "+t)
		}
	}
	if inv.pluginLTO && inv.Links() {
		// The linker runs an LTO plugin (LLVMgold, lld's own) that is not
		// in the key. A library compiled with the flag is only LLVM bitcode
		// in an archive, a function of the arguments and sources like any
		// rlib: Cargo passes it to every dependency of an LTO binary.
		no = append(no, "-C linker-plugin-lto")
	}
	if !inv.emits("dep-info") && inv.Input != "" {
		// Without dep-info grove cannot learn which sources the compile read.
		no = append(no, "no dep-info emitted")
	}
	return no
}

func parseLib(v string) Lib {
	kind, name, ok := strings.Cut(v, "=")
	if !ok {
		kind, name = "", v
	}
	kind, mods, _ := strings.Cut(kind, ":") // modifiers: +bundle, -whole-archive, +verbatim
	name, _, _ = strings.Cut(name, ":")     // drop rename
	verbatim := false
	for _, m := range strings.Split(mods, ",") {
		if m == "+verbatim" {
			verbatim = true
		}
	}
	return Lib{Kind: kind, Name: name, Verbatim: verbatim}
}

func (inv *Invocation) emits(kind string) bool {
	for _, e := range inv.Emit {
		if e == kind {
			return true
		}
	}
	return false
}

// Links reports whether the invocation runs the linker, and so whether the
// linker and every library in the dependency closure are inputs.
func (inv *Invocation) Links() bool {
	if !inv.emits("link") {
		return false
	}
	if inv.Test {
		return true
	}
	for _, t := range inv.CrateTypes {
		switch t {
		case "bin", "proc-macro", "dylib", "cdylib", "staticlib":
			return true
		}
	}
	return false
}

// DepInfoName is the file name rustc gives the dep-info output.
func (inv *Invocation) DepInfoName() string {
	return inv.CrateName + inv.ExtraFilename + ".d"
}

// OutputNames lists the files rustc writes into OutDir, except dep-info,
// derived from crate name, types, -C extra-filename and --emit, for Linux
// and macOS targets.
func (inv *Invocation) OutputNames() ([]string, error) {
	stem := inv.CrateName + inv.ExtraFilename
	var names []string
	add := func(n string) {
		for _, x := range names {
			if x == n {
				return
			}
		}
		names = append(names, n)
	}
	if inv.emits("metadata") {
		add("lib" + stem + ".rmeta")
	}
	if inv.emits("link") {
		if inv.Test {
			add(stem)
		} else {
			for _, t := range inv.CrateTypes {
				switch t {
				case "lib", "rlib":
					add("lib" + stem + ".rlib")
				case "bin":
					add(stem)
				case "proc-macro", "dylib", "cdylib":
					add(dylibName(stem, inv.Target, runtime.GOOS))
				case "staticlib":
					add("lib" + stem + ".a")
				default:
					return nil, fmt.Errorf("no output name for crate-type %s", t)
				}
			}
		}
	}
	return names, nil
}

// dylibName is the file name rustc gives a dynamic library (proc-macro,
// dylib, cdylib) of stem: lib<stem>.dylib for an Apple target,
// lib<stem>.so for the others grove supports. The target is --target's
// triple, or else the host's OS, hostGOOS: Cargo compiles proc-macros and
// build scripts for the host without --target, and grove runs on the host.
// A target given as a spec file path is taken to be ELF.
func dylibName(stem, target, hostGOOS string) string {
	apple := hostGOOS == "darwin"
	if target != "" {
		apple = strings.Contains(target, "-apple-")
	}
	if apple {
		return "lib" + stem + ".dylib"
	}
	return "lib" + stem + ".so"
}
