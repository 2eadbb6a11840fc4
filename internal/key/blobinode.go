package key

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
)

// Files that are store blobs: the rule.
//
// Restore hardlinks rlib and rmeta outputs to their blobs, and save links
// them into the store, so most libraries in a target dir are a store blob's
// inode. Their content digest is the blob's name, trusted exactly as far as
// restore trusts a blob before serving it (store.CheckBlob's quick check):
// the file is known to hash to D when
//
//   - a note for its inode (device, inode number) says D, with the size
//     and mtime the inode had when its content was D: noted by save when it
//     links an output into the store (the same moment the entry records
//     the blob's stamp), or after a whole read of the file hashed to D with
//     the identity unchanged across the read and an mtime older than
//     filehash.RacyWindow;
//   - the file's size and mtime are still those: an ordinary write moves
//     the mtime;
//   - the store's blob D is still that inode (a trimmed and re-made blob,
//     or a reused inode number, is another inode or no blob at all).
//
// ctime is left out, unlike the file-hash memo: every link(2) or unlink(2)
// of any name of the inode moves it, and every restore in any tree does
// that, so a ctime rule re-read every restored library on every hit (the
// link closure of the corpus' binary: 0.5 s). What that leaves open is
// store.CheckBlob's gap: a write in place that puts back both size and
// mtime; restore serves such a blob too, and the reasons it cannot happen
// in an ordinary build are stated there.
//
// A library restore wrote as a private copy of blob D (restore's mtime
// rule writes an rmeta, or a proc-macro's library, fresh) is not the
// blob's inode, and every dependent's key reads it as an --extern: in a
// fresh worktree most rmetas are such copies, each re-read by every
// dependent (an rmeta is up to a few MB). Its digest is known too, by a
// note restore's caller writes right after the copy (NoteCopied). The
// same holds for the files a build-script run's replay copies from their
// blobs into OUT_DIR (package buildscript, NoteCopy), which every unit
// above the script keys when OUT_DIR is a native search dir (native.go:
// ring's objects, 3 MB, keyed by five units of the corpus within seconds
// of the replay; native.go then takes their digests from a memo by D,
// nativeOfBlob). The file is known to hash to D when
//
//   - a copy note for its inode and ctime says D, with the size, mtime and
//     ctime the copy had once in place: restore (or the replay) wrote it
//     whole from blob D (checked by store.CheckBlob first) into a temp name
//     it created exclusively (store.Materialize), and renamed it, so D is
//     its content by construction, not by a read of a file someone else
//     may be writing;
//   - it still has one link, and its size, mtime and ctime are those: any
//     write moves mtime and ctime, and a chmod, a link or a rename moves
//     the ctime; a new inode at the same number (the file deleted and
//     another made) has its own times.
//
// The ctime is in a copy note's key, not only in its stamp, so that every
// copy (each has a new ctime) gets a note of its own, created in place
// (store.CreateObject), never replacing the note of an earlier copy at a
// reused inode number: a restore that writes fresh copies again, in a tree
// that had them, reuses the numbers it just freed, and that rename was a
// third of such a hit. The two kinds of note never meet: a copy has one
// link, a blob's inode two or more.
//
// What that leaves open is the gap every stamp taken right after a write
// has (store.CheckBlob's for a blob stamped after rustc wrote it): a
// write in place by another process within the same clock tick as the
// copy, keeping the size. Nothing in a build writes a library in place
// (rustc replaces its outputs, a new inode); the note is never made from
// a read, where the racy window applies (Learn).

const blobInodeNS = record.NSBlobInode

// blobStore is the part of the store this rule reads.
type blobStore interface {
	filehash.Memo
	BlobPath(digest string) string
}

// blobInodes implements filehash.Known for a store.
type blobInodes struct {
	st  blobStore
	now func() time.Time
}

func blobInodeKey(st filehash.Stat) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], st.Dev)
	binary.LittleEndian.PutUint64(b[8:], st.Ino)
	return hex.EncodeToString(b[:])
}

// copyNoteKey is blobInodeKey with the ctime: one note per copy.
func copyNoteKey(st filehash.Stat) string {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], st.Dev)
	binary.LittleEndian.PutUint64(b[8:], st.Ino)
	binary.LittleEndian.PutUint64(b[16:], uint64(st.Ctime))
	return hex.EncodeToString(b[:])
}

func blobInodeNote(digest string, st filehash.Stat) []byte {
	return fmt.Appendf(nil, "%s %d %d", digest, st.Size, st.Mtime)
}

// Digest returns the blob digest of a file that is a store blob, or a
// copy restore made of one (the rule).
func (b blobInodes) Digest(_ string, st filehash.Stat) (string, bool) {
	if st.Nlink == 1 {
		note, err := b.st.GetObject(blobInodeNS, copyNoteKey(st))
		if err != nil {
			return "", false
		}
		rest, ok := strings.CutPrefix(string(note), copyNotePrefix)
		d, stamp, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || len(d) != 64 || stamp != copyStamp(st) {
			return "", false
		}
		return d, true
	}
	if st.Nlink < 2 {
		return "", false // a blob's inode has the blob's name too
	}
	note, err := b.st.GetObject(blobInodeNS, blobInodeKey(st))
	if err != nil {
		return "", false
	}
	d, rest, ok := strings.Cut(string(note), " ")
	if !ok || len(d) != 64 || rest != fmt.Sprintf("%d %d", st.Size, st.Mtime) {
		return "", false
	}
	blob, err := filehash.StatFile(b.st.BlobPath(d))
	if err != nil || blob.Dev != st.Dev || blob.Ino != st.Ino {
		return "", false
	}
	return d, true
}

// Learn notes a file read whole that is its blob's inode (the rule).
func (b blobInodes) Learn(_ string, st filehash.Stat, digest string) {
	if b.now().Sub(time.Unix(0, st.Mtime)) <= filehash.RacyWindow {
		return
	}
	noteBlobInode(b.st, st, digest)
}

// NoteStored notes the output path, just stored as blob digest, when the
// store linked it in (it is the blob's inode). Its size and mtime now are
// the stamp the entry records for the blob, so the note trusts nothing
// restore does not.
func (u *Unit) NoteStored(path, digest string) {
	s, ok := u.records.(blobStore)
	if !ok {
		return
	}
	if st, err := filehash.StatFile(path); err == nil {
		noteBlobInode(s, st, digest)
	}
}

// copyNotePrefix starts a note for a copy restore made; a blob note starts
// with its 64-digit digest, so neither reads as the other.
const copyNotePrefix = "copy "

// copyStamp is what a copy note requires of the file: size, mtime, ctime.
func copyStamp(st filehash.Stat) string {
	return fmt.Sprintf("%d %d %d", st.Size, st.Mtime, st.Ctime)
}

// NoteCopied notes the output path, which restore has just written as a
// private copy of blob digest (the rule). Called right after the restore,
// so the stamp is the copy's own.
func (u *Unit) NoteCopied(path, digest string) {
	if m, ok := u.records.(filehash.Memo); ok {
		NoteCopy(m, path, digest)
	}
}

// NoteCopy is NoteCopied for a writer without a Unit: a build-script
// run's replay notes each file it copies from a blob into OUT_DIR (the
// rule), right after the copy (and its chmod: the ctime is in the stamp).
func NoteCopy(s filehash.Memo, path, digest string) {
	if len(digest) != 64 {
		return
	}
	st, err := filehash.StatFile(path)
	if err != nil || st.Nlink != 1 || st.Mode&0o170000 != 0o100000 {
		return
	}
	k, note := copyNoteKey(st), []byte(copyNotePrefix+digest+" "+copyStamp(st))
	// A copy has no note yet (its ctime is in the key): create it in
	// place, which spares a rename on every hit. A reader that sees it
	// partly written rejects it: a strict prefix of a note names no
	// digest, or lacks part of the stamp the key's own copy has.
	if c, ok := s.(interface {
		CreateObject(ns, key string, data []byte) error
	}); ok && c.CreateObject(blobInodeNS, k, note) == nil {
		return
	}
	_ = s.PutObject(blobInodeNS, k, note) // a lost note costs a read
}

// noteBlobInode writes the note when the store's blob digest is st's inode.
func noteBlobInode(s blobStore, st filehash.Stat, digest string) {
	if len(digest) != 64 {
		return
	}
	blob, err := filehash.StatFile(s.BlobPath(digest))
	if err != nil || blob.Dev != st.Dev || blob.Ino != st.Ino {
		return
	}
	_ = s.PutObject(blobInodeNS, blobInodeKey(st), blobInodeNote(digest, st)) // a lost note costs a read
}
