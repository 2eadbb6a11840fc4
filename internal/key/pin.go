package key

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/grove-rs/grove/internal/arhash"
	"github.com/grove-rs/grove/internal/filehash"
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

// NamesTree reports whether any of files (absolute) names one of dirs by
// the same scan as Pins: outside debug info, and in crate metadata only
// as a string other than one of allowed (the source map's entries). Seed
// (package seed) asks it of a donor's units: an output that names the
// donor's tree must not be copied into another one.
func NamesTree(files, dirs, allowed []string) (bool, error) {
	s := &scanner{allowed: map[string]bool{}}
	for _, a := range allowed {
		s.allowed[a] = true
	}
	for i, d := range dirs {
		if d = filepath.Clean(d); len(d) > 1 {
			s.paths = append(s.paths, treePath{strconv.Itoa(i), []byte(d)})
		}
	}
	for _, f := range files {
		if err := s.output(f); err != nil {
			return false, err
		}
		if len(s.found) > 0 {
			return true, nil
		}
	}
	return false, nil
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

// output scans one output file. It is mapped into memory and scanned in
// place (filehash.Map): an ELF file's sections, an archive's members, are
// slices of the mapping, and debug info, most of an output's bytes, is
// never even paged in. Where it cannot be mapped it is read (outputRead),
// by the same rule with the same result.
func (s *scanner) output(path string) error {
	data, unmap, err := filehash.Map(path)
	if err != nil {
		return s.outputRead(path)
	}
	ok := s.scanMapped(filepath.Base(path), data)
	unmap()
	if !ok {
		return s.outputRead(path)
	}
	return nil
}

// scanMapped scans a mapped file. Should the file shrink under the mapping
// (a write we do not expect: Cargo holds the target dir's lock), touching
// its lost pages faults; that is turned into a panic here, and ok false,
// and the caller reads the file instead.
func (s *scanner) scanMapped(name string, data []byte) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			ok = false
		}
	}()
	s.file(name, data)
	return true
}

// outputRead scans one output file by reading it. An ELF file (a binary, a
// shared library) is read section by section, so that its debug info is
// never read.
func (s *scanner) outputRead(path string) error {
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

// elf scans an ELF file in memory by section (elfSections), or whole.
func (s *scanner) elf(data []byte) {
	if !s.elfSections(data) {
		s.strict(data)
	}
}

// elfSections is elfFile for an ELF file in memory: each section is a
// slice of data, not a copy (only a compressed section, which debug info
// alone uses in practice, is inflated as elfFile reads it).
func (s *scanner) elfSections(data []byte) bool {
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return false
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil || len(f.Sections) <= 1 {
		return false
	}
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NOBITS || isDebugSection(sec.Name) {
			continue
		}
		var b []byte
		if sec.Flags&elf.SHF_COMPRESSED != 0 {
			if b, err = sec.Data(); err != nil {
				return false
			}
		} else {
			// What sec.Data() would read, or fail to: Size bytes at Offset.
			if sec.Offset > uint64(len(data)) || sec.Size > uint64(len(data))-sec.Offset {
				return false
			}
			b = data[sec.Offset : sec.Offset+sec.Size]
		}
		s.section(sec.Name, b)
	}
	return true
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
		s.section(sec.Name, b)
	}
	return true
}

// section scans one section of an ELF file that is not debug info.
func (s *scanner) section(name string, b []byte) {
	if name == ".rustc" {
		s.metadata(b)
	} else {
		s.strict(b)
	}
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
