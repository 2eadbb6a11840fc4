package wrapper

import (
	"bytes"
	"debug/elf"
	"fmt"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/arhash"
)

// Comparing a hit with a compile here when the hit was compiled in another
// tree: the rule.
//
// What must match across trees is what plain cargo gives two worktrees
// alike: everything but the debug info and the tree paths in the crate
// metadata's source map (key/pin.go serves an entry to another tree only
// when its outputs name no tree path anywhere else). The verify compile
// runs where every tree path it can record has the same length as the
// compiling tree's (see verify.go's mirror), so the two outputs have the
// same layout: no string length prefix, no position, no offset moves. Then:
//
//   - archives (rlibs) are compared member by member, incremental session
//     names paired by position (as for a compile in the same tree);
//   - ELF objects, binaries and shared libraries section by section: names,
//     types, flags, addresses and contents, except debug sections
//     (.debug_*, their relocations), .note.gnu.build-id (the linker's
//     digest of the whole file, debug info included) and the LLVM bitcode
//     kept for LTO (.llvmbc, .llvmcmd: the module's code, which the
//     object's code sections show, with its debug metadata);
//   - crate metadata (an .rmeta file, an rlib's lib.rmeta .rmeta section, a
//     dylib's .rustc section) byte for byte, after each side's tree paths
//     are overwritten by one fixed filler of the same length, except for
//     bytes within 15 of a byte that differs between two compiles here at
//     two different mirror paths: rustc derives hashes from file names (each
//     source file's stable id, expansion hashes, the crate hash (SVH)), and
//     those bytes are exactly where two compiles that differ only in where
//     the tree is differ. A hash is at most 16 bytes and differs in at
//     least one byte between the two compiles, so the window covers every
//     byte of it (a byte-wise mask alone would not: two hashes agree on a
//     given byte one time in 256).
//
// So the comparison is exact except for the tree paths themselves and
// bytes next to a hash of them.

// treePaths are one side's tree paths, each with its own filler byte: the
// two sides list the same placeholders, with paths of equal length.
type treePaths []treePath

type treePath struct {
	path   []byte
	filler byte
}

// crossSide is one output as one compile made it, with its tree paths.
type crossSide struct {
	data  []byte
	paths treePaths
}

// crossCompare compares an output stored by another tree (a) with the same
// output compiled here at two mirror paths (b, b2). It returns "" when they
// match, else what differs.
func crossCompare(name string, a, b, b2 crossSide) string {
	switch {
	case bytes.HasPrefix(a.data, []byte("!<arch>\n")):
		return crossArchive(a, b, b2)
	case bytes.HasPrefix(a.data, []byte(elf.ELFMAG)):
		return crossELF(a, b, b2)
	case bytes.HasPrefix(a.data, []byte("rust\x00\x00\x00")):
		return crossMetadata(a, b, b2)
	}
	if !bytes.Equal(a.data, b.data) {
		return "content"
	}
	return ""
}

func crossArchive(a, b, b2 crossSide) string {
	ma, ok1 := arhash.MemberContents(a.data)
	mb, ok2 := arhash.MemberContents(b.data)
	mb2, ok3 := arhash.MemberContents(b2.data)
	if !ok1 || !ok2 || !ok3 {
		return "archive unreadable"
	}
	if len(ma) != len(mb) || len(mb) != len(mb2) {
		return fmt.Sprintf("archive has %d members, %d here", len(ma), len(mb))
	}
	for i := range mb {
		// Incremental sessions name the object files: pair by position.
		da, db2 := ma[i].Data, mb2[i].Data
		for j := range mb {
			if n, m := ma[j].Name, mb[j].Name; n != m && len(n) > 8 {
				da = bytes.ReplaceAll(da, []byte(n), []byte(m))
			}
			if n, m := mb2[j].Name, mb[j].Name; n != m && len(n) > 8 {
				db2 = bytes.ReplaceAll(db2, []byte(n), []byte(m))
			}
		}
		if d := crossCompare(mb[i].Name, crossSide{da, a.paths}, crossSide{mb[i].Data, b.paths}, crossSide{db2, b2.paths}); d != "" {
			return "member " + mb[i].Name + ": " + d
		}
	}
	return ""
}

// skipSection reports whether an ELF section may differ across trees.
func skipSection(name string) bool {
	switch name {
	case ".note.gnu.build-id", ".llvmbc", ".llvmcmd":
		return true
	}
	for _, p := range []string{".debug", ".zdebug", ".rela.debug", ".rel.debug"} {
		if len(name) >= len(p) && name[:len(p)] == p {
			return true
		}
	}
	return false
}

func crossELF(a, b, b2 crossSide) string {
	fa, err1 := elf.NewFile(bytes.NewReader(a.data))
	fb, err2 := elf.NewFile(bytes.NewReader(b.data))
	fb2, err3 := elf.NewFile(bytes.NewReader(b2.data))
	if err1 != nil || err2 != nil || err3 != nil {
		if bytes.Equal(a.data, b.data) {
			return ""
		}
		return "unreadable ELF file"
	}
	defer fa.Close()
	defer fb.Close()
	defer fb2.Close()
	if len(fa.Sections) != len(fb.Sections) || len(fb.Sections) != len(fb2.Sections) {
		return fmt.Sprintf("%d sections, %d here", len(fa.Sections), len(fb.Sections))
	}
	for i, sa := range fa.Sections {
		sb, sb2 := fb.Sections[i], fb2.Sections[i]
		if sa.Name != sb.Name || sa.Type != sb.Type || sa.Flags != sb.Flags || sa.Addr != sb.Addr {
			return fmt.Sprintf("section %d: %s, %s here", i, sa.Name, sb.Name)
		}
		if skipSection(sa.Name) || sa.Type == elf.SHT_NOBITS {
			continue
		}
		da, err1 := sa.Data()
		db, err2 := sb.Data()
		db2, err3 := sb2.Data()
		if err1 != nil || err2 != nil || err3 != nil {
			return "section " + sa.Name + " unreadable"
		}
		if sa.Name == ".rustc" || sa.Name == ".rmeta" {
			if d := crossMetadata(crossSide{da, a.paths}, crossSide{db, b.paths}, crossSide{db2, b2.paths}); d != "" {
				return "section " + sa.Name + ": " + d
			}
			continue
		}
		if !bytes.Equal(da, db) {
			return "section " + sa.Name
		}
	}
	return ""
}

// hashWindow is how far a byte may lie from a byte that depends on the tree
// paths and still be taken for part of the same hash: rustc's hashes of
// file names are at most 16 bytes.
const hashWindow = 15

func crossMetadata(a, b, b2 crossSide) string {
	ca, cb, cb2 := fillPaths(a), fillPaths(b), fillPaths(b2)
	if len(ca) != len(cb) || len(cb) != len(cb2) {
		return fmt.Sprintf("metadata of %d bytes, %d here", len(ca), len(cb))
	}
	var mask []int // offsets where the two compiles here differ
	for i := range cb {
		if cb[i] != cb2[i] {
			mask = append(mask, i)
		}
	}
	for i := range ca {
		if ca[i] == cb[i] {
			continue
		}
		// The nearest path-dependent byte.
		j := sort.SearchInts(mask, i)
		near := j < len(mask) && mask[j]-i <= hashWindow || j > 0 && i-mask[j-1] <= hashWindow
		if !near {
			lo, hi := max(0, i-24), min(len(ca), i+24)
			return fmt.Sprintf("metadata byte %d: %q, here %q", i, ca[lo:hi], cb[lo:hi])
		}
	}
	return ""
}

// fillPaths overwrites every occurrence of a tree path (ending at a path
// boundary) with its filler; the length never changes.
func fillPaths(s crossSide) []byte {
	out := s.data
	copied := false
	// Longest first: a target dir inside the working dir is the target dir.
	ps := append(treePaths{}, s.paths...)
	sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].path) > len(ps[j].path) })
	for _, p := range ps {
		if len(p.path) < 4 {
			continue
		}
		for from := 0; ; {
			k := bytes.Index(out[from:], p.path)
			if k < 0 {
				break
			}
			k += from
			end := k + len(p.path)
			from = k + 1
			if end < len(out) && nameByte(out[end]) {
				continue
			}
			if !copied {
				out = append([]byte(nil), out...)
				copied = true
			}
			for x := k; x < end; x++ {
				out[x] = p.filler
			}
		}
	}
	return out
}

// nameByte reports whether b continues a file name ("/x/wt" is not a tree
// path inside "/x/wt2"). Bytes that never occur in UTF-8 end a name: rustc
// ends every string in metadata with 0xC1.
func nameByte(b byte) bool {
	switch {
	case b == 0xC0 || b == 0xC1 || b >= 0xF5:
		return false
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b >= 0x80:
		return true
	}
	return strings.IndexByte("_.-+~", b) >= 0
}
