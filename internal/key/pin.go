package key

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/arhash"
)

// Paths inside outputs: the rule.
//
// A value naming this tree (working dir, target dir, OUT_DIR) may be
// normalized in the key only where it cannot reach the output. It reaches
// outputs in ways nobody lists in advance: env!("CARGO_BIN_EXE_app") in an
// integration test, `-Wl,-rpath,$OUT_DIR` in a binary's RUNPATH,
// concat!(env!("OUT_DIR"), "/x") read at run time, a proc-macro expanding
// to a string literal of CARGO_MANIFEST_DIR. So after every compile the
// outputs are scanned for this tree's absolute paths, and an entry whose
// outputs name them is pinned: it is served only to a tree where those
// paths are the same (the same worktree and target dir), and another tree
// compiles its own.
//
// Two places may name the tree without pinning, because nothing reads them
// at run time and plain cargo's own outputs differ there between worktrees
// too:
//   - debug info (.debug_* sections): compilation dirs, source paths;
//   - the source map in crate metadata (an rmeta, an rlib's lib.rmeta, a
//     dylib's .rustc section): rustc records the working dir and the
//     absolute path of every source file it read, to point diagnostics and
//     debug info of downstream crates at them. Only exactly those strings
//     (the working dir, and the dep-info's files made absolute) are
//     allowed there; any other string starting with a tree path pins.
//
// Cargo runs rustc for a package outside the workspace (registry, git) in
// that package's own dir, and its panic locations name its sources there
// (.rodata): most such units are pinned to that dir. Every worktree of the
// machine builds them in the same dir, so the pin costs no hit between
// worktrees; it only keeps apart stores shared by users whose registries
// lie elsewhere, whose panic messages would differ.
//
// A unit instrumented for coverage is always pinned (coverage.go).
//
// Known residue, in README's limits: a crate constant holding exactly the
// working dir cannot be told from the source map's entry.

// Pins scans the outputs of a compile (absolute paths) for this tree's
// paths and returns placeholder → path for each one found outside debug
// info and the source map. sources are the dep-info's files.
func (u *Unit) Pins(outputs []string, sources []string) (map[string]string, error) {
	s := &scanner{allowed: map[string]bool{u.Cwd: true}}
	for _, f := range sources {
		s.allowed[u.Abs(f)] = true
	}
	for _, ph := range []string{Target, Cwd} {
		if p := u.Norm.Paths()[ph]; p != "" {
			s.paths = append(s.paths, treePath{ph, []byte(p)})
		}
	}
	if u.Inv != nil && coverage(u.Inv.Args) {
		// coverage.go: the coverage map names the tree where no scan sees it.
		for _, tp := range s.paths {
			s.mark(tp.placeholder)
		}
	}
	for _, o := range outputs {
		if err := s.output(o); err != nil {
			return nil, err
		}
	}
	if len(s.found) == 0 {
		return nil, nil
	}
	pins := map[string]string{}
	for ph := range s.found {
		pins[ph] = u.Norm.Paths()[ph]
	}
	return pins, nil
}

type treePath struct {
	placeholder string
	path        []byte
}

type scanner struct {
	paths   []treePath
	allowed map[string]bool // strings the source map may hold
	found   map[string]bool // placeholders found
}

func (s *scanner) mark(ph string) {
	if s.found == nil {
		s.found = map[string]bool{}
	}
	s.found[ph] = true
}

// file scans one output by kind: archives by member, ELF files by section,
// metadata with the source-map allowance, anything else whole.
func (s *scanner) file(name string, data []byte) {
	switch {
	case strings.HasSuffix(name, ".rmeta") || name == "lib.rmeta":
		s.metadata(data)
	case bytes.HasPrefix(data, []byte("!<arch>\n")):
		members, ok := arhash.MemberContents(data)
		if !ok {
			s.strict(data)
			return
		}
		for _, m := range members {
			s.file(m.Name, m.Data)
		}
	case bytes.HasPrefix(data, []byte(elf.ELFMAG)):
		s.elf(data)
	default:
		s.strict(data)
	}
}

// output scans one output file. An ELF file (a binary, a shared library)
// is read section by section, so that its debug info, most of its bytes,
// is never read.
func (s *scanner) output(path string) error {
	name := filepath.Base(path)
	if !strings.HasSuffix(name, ".rmeta") {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		done := s.elfFile(f)
		f.Close()
		if done {
			return nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s.file(name, data)
	return nil
}

func (s *scanner) elf(data []byte) {
	if !s.elfFile(bytes.NewReader(data)) {
		s.strict(data)
	}
}

// elfFile scans an ELF file by section, skipping debug info, and the
// .rustc section (a dylib's metadata) with the source-map allowance. It
// returns false when r is not an ELF file with a section table (stripped
// of it by sstrip, say) or a section cannot be read: nothing then tells
// debug info apart, and the caller scans the whole file.
func (s *scanner) elfFile(r io.ReaderAt) bool {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return false
	}
	f, err := elf.NewFile(r)
	if err != nil || len(f.Sections) <= 1 {
		return false
	}
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NOBITS || isDebugSection(sec.Name) {
			continue
		}
		b, err := sec.Data()
		if err != nil {
			return false
		}
		if sec.Name == ".rustc" {
			s.metadata(b)
		} else {
			s.strict(b)
		}
	}
	return true
}

func isDebugSection(name string) bool {
	for _, p := range []string{".debug", ".zdebug", ".rela.debug", ".rel.debug"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// strict pins on any occurrence of a tree path.
func (s *scanner) strict(data []byte) {
	for _, tp := range s.paths {
		if s.found[tp.placeholder] {
			continue
		}
		if indexPath(data, tp.path, 0) >= 0 {
			s.mark(tp.placeholder)
		}
	}
}

// metadata pins on occurrences of a tree path that are not a source-map
// string: rustc writes a string as its bytes followed by 0xC1 (a byte that
// never occurs in UTF-8), so the string starting at the occurrence is
// read up to that terminator (or any control byte) and compared with the
// allowed ones.
func (s *scanner) metadata(data []byte) {
	for _, tp := range s.paths {
		if s.found[tp.placeholder] {
			continue
		}
		for i := indexPath(data, tp.path, 0); i >= 0; i = indexPath(data, tp.path, i+1) {
			end := i
			for end < len(data) && data[end] != 0xC1 && data[end] >= 0x20 {
				end++
			}
			if !s.allowed[string(data[i:end])] {
				s.mark(tp.placeholder)
				break
			}
		}
	}
}

// indexPath finds p in data from offset at a path boundary: the byte after
// it must not continue a file name ("/x/wt" is not found in "/x/wt2").
func indexPath(data, p []byte, from int) int {
	for from <= len(data) {
		j := bytes.Index(data[from:], p)
		if j < 0 {
			return -1
		}
		j += from
		end := j + len(p)
		if end == len(data) || !nameByte(data[end]) {
			return j
		}
		from = j + 1
	}
	return -1
}
