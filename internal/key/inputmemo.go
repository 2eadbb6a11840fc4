package key

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/zeebo/blake3"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
)

// The sources of a candidate, memoized as one set: the rule.
//
// This is the file-hash memo (package filehash) for a whole input set in
// one store object, the way nativedir memoizes a search dir (native.go).
// Per file, the memo only pays for large files: reading a small source
// costs about what reading its memo object costs, so a registry crate's
// lookup read and hashed every one of its sources on every hit (tokio:
// 38 ms). The set's digests are memoized instead, keyed by every file's
// path and stat identity (device, inode, size, mtime, ctime), and only
// once every one of them has been still for filehash.RacyWindow: any write
// to any file moves its mtime and ctime, and so the memo key. Nothing is
// trusted that the per-file memo does not trust; the digests come from
// reads of these same identities.

const (
	inputSetNS      = record.NSInputSet
	inputSetVersion = "inputset-1\x00"
)

// inputSet is the stat identity of a list of files.
type inputSet struct {
	paths []string
	sts   []filehash.Stat
	key   string
	still bool // every file older than the racy window
}

// statInputs stats paths; ok is false when one cannot be stat'ed.
func (u *Unit) statInputs(paths []string) (s inputSet, ok bool) {
	now := time.Now()
	if u.Hasher.Now != nil {
		now = u.Hasher.Now()
	}
	h := blake3.New()
	h.WriteString(inputSetVersion)
	s = inputSet{paths: paths, sts: make([]filehash.Stat, len(paths)), still: true}
	var line []byte
	for i, p := range paths {
		st, err := filehash.StatFile(p)
		if err != nil {
			return s, false
		}
		s.sts[i] = st
		// "%s\x00%d %d %d %d %d\n", without fmt's cost per file.
		line = append(append(line[:0], p...), 0)
		line = strconv.AppendUint(line, st.Dev, 10)
		line = strconv.AppendUint(append(line, ' '), st.Ino, 10)
		line = strconv.AppendInt(append(line, ' '), st.Size, 10)
		line = strconv.AppendInt(append(line, ' '), st.Mtime, 10)
		line = strconv.AppendInt(append(line, ' '), st.Ctime, 10)
		h.Write(append(line, '\n'))
		if now.Sub(st.Newest()) <= filehash.RacyWindow {
			s.still = false
		}
	}
	s.key = hex.EncodeToString(h.Sum(nil))
	return s, true
}

// memoDigests returns the memoized digests of the set, in order.
func (u *Unit) memoDigests(s inputSet) ([]string, bool) {
	if u.Hasher.Memo == nil || !s.still || len(s.paths) == 0 {
		return nil, false
	}
	b, err := u.Hasher.Memo.GetObject(inputSetNS, s.key)
	if err != nil {
		return nil, false
	}
	ds := strings.Split(string(b), "\n")
	if len(ds) != len(s.paths) {
		return nil, false
	}
	for _, d := range ds {
		if len(d) != 64 {
			return nil, false
		}
	}
	return ds, true
}

// putDigests memoizes digests, read from the set's files with the
// identities in hashed (those the hasher saw), when they are the set's.
func (u *Unit) putDigests(s inputSet, hashed []filehash.Stat, digests []string) {
	if u.Hasher.Memo == nil || !s.still || len(s.paths) == 0 {
		return
	}
	for i := range s.sts {
		if hashed[i] != s.sts[i] {
			return
		}
	}
	_ = u.Hasher.Memo.PutObject(inputSetNS, s.key, []byte(strings.Join(digests, "\n"))) // a lost memo costs reads
}
