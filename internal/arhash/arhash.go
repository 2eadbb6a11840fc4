// Package arhash digests static libraries (ar archives of ELF objects)
// without their debug sections.
//
// Static libraries built by build scripts (cc, cmake) embed the absolute path
// of the directory they were built in, in their DWARF sections only. Keyed
// by raw content, the same C code built in two worktrees would make every
// crate that links it, and everything above, miss. Debug sections describe
// code for debuggers; they do not change what the code does, so leaving them
// out of the digest is safe: the restored unit behaves identically, and its
// debug info names the worktree that compiled it first (as with ccache's
// base_dir). Anything that is not a well-formed archive of ELF objects is
// digested byte for byte.
package arhash

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strconv"
	"strings"

	"github.com/zeebo/blake3"
)

const magic = "!<arch>\n"

// IsNative reports whether path starts like a static archive or an ELF
// file (object, shared library): the files Digest treats specially.
func IsNative(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [8]byte
	n, _ := f.Read(head[:])
	return bytes.HasPrefix(head[:n], []byte(magic)) || bytes.HasPrefix(head[:n], []byte(elf.ELFMAG))
}

// Digest returns the debug-insensitive digest of the library or object at
// path: archives member by member, ELF files section by section, both
// without debug sections.
func Digest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if d, ok := archiveDigest(data); ok {
		return d, nil
	}
	if bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		h := blake3.New()
		h.Write([]byte("elfhash-1\x00"))
		if hashELF(h, data) {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
	}
	sum := blake3.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func archiveDigest(data []byte) (string, bool) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return "", false
	}
	h := blake3.New()
	h.Write([]byte("arhash-1\x00"))
	off := len(magic)
	for off < len(data) {
		if off+60 > len(data) {
			return "", false
		}
		hdr := data[off : off+60]
		if string(hdr[58:60]) != "`\n" {
			return "", false
		}
		name := strings.TrimRight(string(hdr[0:16]), " ")
		size, err := strconv.Atoi(strings.TrimSpace(string(hdr[48:58])))
		if err != nil || size < 0 || off+60+size > len(data) {
			return "", false
		}
		body := data[off+60 : off+60+size]
		off += 60 + size + size%2
		switch name {
		case "/", "/SYM64/":
			// The symbol index holds member offsets, which move when a
			// member's debug sections change size. It is derived from the
			// members, which are hashed.
			continue
		}
		writeField(h, []byte(name))
		if !bytes.HasPrefix(body, []byte(elf.ELFMAG)) {
			writeField(h, body)
			continue
		}
		if !hashELF(h, body) {
			return "", false
		}
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

func hashELF(h *blake3.Hasher, obj []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return false
	}
	defer f.Close()
	for _, s := range f.Sections {
		if isDebug(s.Name) {
			continue
		}
		writeField(h, []byte(s.Name))
		var meta [24]byte
		binary.LittleEndian.PutUint64(meta[0:], uint64(s.Type))
		binary.LittleEndian.PutUint64(meta[8:], uint64(s.Flags))
		binary.LittleEndian.PutUint64(meta[16:], s.Size)
		h.Write(meta[:])
		if s.Type == elf.SHT_NOBITS {
			continue
		}
		// The section's bytes as they lie in obj, without the copy
		// Section.Data makes (most of the cost on a large archive); a
		// compressed section is hashed decompressed, as Data gives it.
		if s.Flags&elf.SHF_COMPRESSED == 0 && s.Offset <= uint64(len(obj)) && s.FileSize <= uint64(len(obj))-s.Offset {
			writeField(h, obj[s.Offset:s.Offset+s.FileSize])
			continue
		}
		b, err := s.Data()
		if err != nil {
			return false
		}
		writeField(h, b)
	}
	return true
}

func isDebug(name string) bool {
	for _, p := range []string{".debug", ".zdebug", ".rela.debug", ".rel.debug"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func writeField(h *blake3.Hasher, b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// Member is one archive member, with its name resolved.
type Member struct {
	Name string
	Data []byte
}

// MemberContents returns an archive's members in order, without the symbol
// index and the long-name table. Incremental compiles name an rlib's object
// files after the session, so two identical compiles differ in those names
// (and, since Rust 1.97, in the lib.rmeta-link member that lists them);
// verification compares contents.
func MemberContents(data []byte) ([]Member, bool) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, false
	}
	var out []Member
	var longNames []byte
	off := len(magic)
	for off < len(data) {
		if off+60 > len(data) {
			return nil, false
		}
		hdr := data[off : off+60]
		name := strings.TrimRight(string(hdr[0:16]), " ")
		size, err := strconv.Atoi(strings.TrimSpace(string(hdr[48:58])))
		if err != nil || size < 0 || off+60+size > len(data) {
			return nil, false
		}
		body := data[off+60 : off+60+size]
		switch {
		case name == "//":
			longNames = body
		case name == "/" || name == "/SYM64/":
		default:
			out = append(out, Member{Name: resolveName(name, longNames), Data: body})
		}
		off += 60 + size + size%2
	}
	return out, true
}

// resolveName turns a GNU ar header name into the member name: "name/" is
// "name", "/123" is the entry at offset 123 of the long-name table.
func resolveName(name string, table []byte) string {
	if strings.HasPrefix(name, "/") && len(name) > 1 {
		if off, err := strconv.Atoi(name[1:]); err == nil && off < len(table) {
			if end := bytes.Index(table[off:], []byte("/\n")); end >= 0 {
				return string(table[off : off+end])
			}
		}
	}
	return strings.TrimSuffix(name, "/")
}
