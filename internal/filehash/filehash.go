// Package filehash computes content digests of files, memoizing those of
// large files by their stat identity so that a cache hit costs stat calls,
// not reads.
//
// The memo key is (device, inode, size, mtime, ctime). A file is memoized
// only when it has not changed for RacyWindow: a write in the same clock tick
// as an earlier hash would leave size and times unchanged, and the memo would
// then vouch for content it never read (the "racy git" problem; ccache
// refuses such inputs the same way).
package filehash

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// MemoThreshold is the size from which digests are memoized. Reading and
// hashing a smaller file costs about as much as reading its memo entry.
const MemoThreshold = 128 << 10

// Memo stores small values by namespace and key; the store implements it.
type Memo interface {
	GetObject(ns, key string) ([]byte, error)
	PutObject(ns, key string, data []byte) error
}

const memoNS = record.NSFileHash

// Hasher hashes files. A nil Memo disables memoization.
type Hasher struct {
	Memo Memo
	Now  func() time.Time
	// Known, when set, may name the content digest of a file from its
	// identity alone, before any memo or read; it is told every content
	// digest read whole (Learn). The rule of what may be known that way
	// lives with the caller (package key: a file that is a store blob).
	Known Known

	// seen holds, by namespace and stat identity, the digests this
	// Hasher read of files that had been still for RacyWindow: the memo's
	// own rule, for files of every size, within this process. A miss hashes
	// many sources twice (the flight key before the compile, the
	// candidate after it; a build script's package before and after its
	// run), and a write in between moves the file's ctime, so its identity.
	// Off with a nil Memo, like the memo.
	seen map[seenKey]string
}

type seenKey struct {
	ns string
	st Stat
}

// Known names content digests by file identity (see Hasher.Known). It is
// asked about every file hashed byte for byte (package key: store blobs,
// which share their inode with the files linked to them, and the private
// copies restore made of blobs), and taught only about files with more
// than one link (a single-link file it does not know is an ordinary
// output or source, which the memo covers).
type Known interface {
	// Digest returns the content digest of the file path with identity
	// st, or ok false when it does not know it.
	Digest(path string, st Stat) (digest string, ok bool)
	// Learn is told that path, with identity st unchanged from before to
	// after the read, hashed to digest.
	Learn(path string, st Stat, digest string)
}

// Stat is the identity of a file as the hasher saw it.
type Stat struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // nanoseconds
	Mode         uint32
	Nlink        uint64
}

// StatFile returns the identity of path (following symlinks).
func StatFile(path string) (Stat, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Stat{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return Stat{
		Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size,
		Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(), Mode: uint32(st.Mode), // uint16 on macOS
		Nlink: uint64(st.Nlink),
	}, nil
}

// Newest returns the later of the file's mtime and ctime.
func (s Stat) Newest() time.Time {
	n := s.Mtime
	if s.Ctime > n {
		n = s.Ctime
	}
	return time.Unix(0, n)
}

func (s Stat) memoKey() string {
	var b [40]byte
	binary.LittleEndian.PutUint64(b[0:], s.Dev)
	binary.LittleEndian.PutUint64(b[8:], s.Ino)
	binary.LittleEndian.PutUint64(b[16:], uint64(s.Size))
	binary.LittleEndian.PutUint64(b[24:], uint64(s.Mtime))
	binary.LittleEndian.PutUint64(b[32:], uint64(s.Ctime))
	sum := blake3.Sum256(b[:])
	return hex.EncodeToString(sum[:16])
}

// File returns the hex blake3 digest of path's content and its identity.
func (h *Hasher) File(path string) (string, Stat, error) {
	return h.FileWith(path, memoNS, hashContent)
}

// FileWith is File with another digest function (e.g. one that leaves out
// debug sections), memoized the same way under its own namespace ns.
func (h *Hasher) FileWith(path, ns string, digestFn func(string) (string, error)) (string, Stat, error) {
	st, err := StatFile(path)
	if err != nil {
		return "", st, err
	}
	if h.Known != nil && ns == memoNS {
		if d, ok := h.Known.Digest(path, st); ok {
			return d, st, nil
		}
	}
	if d, ok := h.seen[seenKey{ns, st}]; ok {
		return d, st, nil
	}
	known := h.Known != nil && ns == memoNS && st.Nlink > 1
	memo := h.Memo != nil && st.Size >= MemoThreshold
	if memo {
		if v, err := h.Memo.GetObject(ns, st.memoKey()); err == nil && len(v) == 64 {
			return string(v), st, nil
		}
	}
	digest, err := digestFn(path)
	if err != nil {
		return "", st, err
	}
	if h.Memo != nil || known {
		// Re-stat: only memoize if nothing changed while we read, and the
		// file has been still for longer than the racy window.
		after, err := StatFile(path)
		if err == nil && after == st {
			if known {
				h.Known.Learn(path, st, digest)
			}
			if h.Memo != nil && h.now().Sub(st.Newest()) > RacyWindow {
				if h.seen == nil {
					h.seen = map[seenKey]string{}
				}
				h.seen[seenKey{ns, st}] = digest
				if memo {
					_ = h.Memo.PutObject(ns, st.memoKey(), []byte(digest)) // a lost memo only costs a re-hash
				}
			}
		}
	}
	return digest, st, nil
}

// now is the hasher's clock.
func (h *Hasher) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// mapThreshold is the size from which hashContent maps a file rather than
// reading it: below it, setting up and tearing down a mapping costs more
// than the copy it saves.
const mapThreshold = 64 << 10

func hashContent(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() >= mapThreshold {
		if d, ok := hashMapped(f, fi); ok {
			return d, nil
		}
	}
	d := NewDigester()
	if _, err := io.Copy(d, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return d.Digest(), nil
}

// hashMapped hashes a large open file through a mapping (Map): the outputs
// a miss stores are hashed right after rustc wrote them, and reading them
// copied every byte from the page cache, most of the system time of
// hashing them. ok is false when the file cannot be mapped, or shrank
// under the mapping (the fault is turned into a panic here); the caller
// then reads it from f, whose offset is untouched.
func hashMapped(f *os.File, fi os.FileInfo) (digest string, ok bool) {
	data, unmap, err := mapOpen(f, fi)
	if err != nil {
		return "", false
	}
	defer unmap()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			digest, ok = "", false
		}
	}()
	return Bytes(data), true
}

// Digester computes the digest (as File gives it) of the bytes written to
// it, for content that streams past, such as a download, rather than
// sitting in a file.
type Digester struct{ h *blake3.Hasher }

// NewDigester returns a Digester of no bytes yet.
func NewDigester() *Digester { return &Digester{h: blake3.New()} }

func (d *Digester) Write(p []byte) (int, error) { return d.h.Write(p) }

// Digest returns the hex digest of what was written so far.
func (d *Digester) Digest() string { return hex.EncodeToString(d.h.Sum(nil)) }

// Bytes returns the hex blake3 digest of b.
func Bytes(b []byte) string {
	sum := blake3.Sum256(b)
	return hex.EncodeToString(sum[:])
}
