package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Method says how Materialize produced its destination file.
type Method string

// The ways Materialize can produce a file, in the order it tries them.
const (
	// MethodReflink: the file shares the blob's data blocks copy-on-write
	// (FICLONE; XFS with reflink=1, Btrfs). Own inode, no extra space.
	MethodReflink Method = "reflink"
	// MethodHardlink: the file is the blob's inode. No extra space, but it
	// shares the blob's mtime and mode with every other tree linked to it.
	MethodHardlink Method = "hardlink"
	// MethodCopy: an ordinary copy with its own inode and blocks.
	MethodCopy Method = "copy"
)

// BlobPath returns where the blob digest lives. It does not check digest or
// whether the blob exists.
func (s *Store) BlobPath(digest string) string {
	return filepath.Join(s.dir, blobsDir, fan(digest), digest)
}

// blobMode is the mode a blob gets: that of a plain cargo output (0644, or
// 0755 when executable, so hard-linked build scripts and tests can be run),
// whatever src's mode. Owner-writable, because a blob hard-linked into a
// target dir is that target dir's output too, and a read-only one breaks
// every later build without grove (rustc refuses to replace an output that
// is not writable) and tools such as strip. Never group- or world-writable:
// nobody but the owner may change what the store serves (see Access). A
// write through a link is caught by CheckBlob instead (invariant 2).
func blobMode(src fs.FileMode) fs.FileMode {
	if src&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// PutBlob ingests the file src as the blob digest. digest is the caller's
// hash of src's content; the store does not re-hash it.
//
// If the blob exists already PutBlob does nothing. Otherwise, when link is
// true, it hard-links src into tmp/, gives that inode the blob mode (src is
// the same file, so it gets it too: it stays an ordinary writable output)
// and renames it into place, which costs no data copy.
// When linking is not possible (another file system, EPERM, EMLINK, link
// false) it clones src (cloneNew) or else copies it, fsyncs, and renames.
// Either way the blob reaches its final name complete or not at all.
func (s *Store) PutBlob(src, digest string, link bool) error {
	if !validHex(digest) {
		return fmt.Errorf("store: put blob %q: %w", digest, ErrInvalidName)
	}
	final := s.BlobPath(digest)
	if _, err := os.Lstat(final); err == nil {
		return nil
	}
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("store: put blob %s: %w", digest, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("store: put blob %s: %s is not a regular file", digest, src)
	}
	mode := blobMode(st.Mode())
	if link {
		if ok, err := s.putLinked(src, final, mode); ok {
			if err != nil {
				return fmt.Errorf("store: put blob %s: %w", digest, err)
			}
			return nil
		}
	}
	if err := s.putCopy(src, final, mode); err != nil {
		return fmt.Errorf("store: put blob %s: %w", digest, err)
	}
	return nil
}

// putLinked tries to ingest src by hard link. ok is false when linking is not
// possible here and the caller should copy instead; err is then nil.
func (s *Store) putLinked(src, final string, mode fs.FileMode) (ok bool, err error) {
	tmp := s.tmpPath("blob")
	if err := os.Link(src, tmp); err != nil {
		return false, nil
	}
	// A blob must have the blob mode (not writable by others); if we cannot
	// give the shared inode that mode (not its owner), do not share it.
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return false, nil
	}
	return true, s.publish(tmp, final)
}

// putCopy ingests src by reflink or copy into a fresh temp file.
func (s *Store) putCopy(src, final string, mode fs.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := s.tmpPath("blob")
	out, cerr := cloneNew(in, tmp, 0o600)
	if cerr != nil {
		// No reflink here (ext4, tmpfs, another file system): copy.
		// io.Copy uses copy_file_range, which stays in the kernel.
		if out, err = s.createExcl(tmp, 0o600); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if cerr != nil {
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Chmod(mode); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return s.publish(tmp, final)
}

// createExcl creates a new file, making tmp/ again if it was removed under a
// running store (deleting store directories must never break a build).
func (s *Store) createExcl(name string, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.mkdirAll(filepath.Dir(name)); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	}
	return f, err
}

// publish moves the complete blob tmp to final without replacing an existing
// final: a blob that is already there is equal by construction and callers
// may have remembered its inode and mtime. Where the platform has no
// exclusive rename (renameNoReplace), link(2) gives the same no-replace
// guarantee; without either, a plain rename is still atomic (linkNoReplace).
// The fan-out dir is made only when the rename finds it missing: a mkdir
// of one that exists costs a path walk and the parent's lock on every put.
func (s *Store) publish(tmp, final string) error {
	err := publishOnce(tmp, final)
	if errors.Is(err, fs.ErrNotExist) {
		if err = s.mkdirParent(final); err == nil {
			err = publishOnce(tmp, final)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		// Another writer won the race; its blob has the same content.
		os.Remove(tmp)
		return nil
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s to %s: %w", tmp, final, err)
	}
	return nil
}

// publishOnce is one try of publish's exclusive rename; tmp stays on error.
func publishOnce(tmp, final string) error {
	err := renameNoReplace(tmp, final)
	if errors.Is(err, errNoExclusiveRename) {
		err = linkNoReplace(tmp, final)
	}
	return err
}

// BlobStat returns the blob's FileInfo. Callers remember its size and mtime
// to notice later that a blob was changed in place (written through a hard
// link by a foreign tool) and re-hash it before serving it.
func (s *Store) BlobStat(digest string) (os.FileInfo, error) {
	if !validHex(digest) {
		return nil, fmt.Errorf("store: stat blob %q: %w", digest, ErrInvalidName)
	}
	fi, err := os.Stat(s.BlobPath(digest))
	if err != nil {
		return nil, fmt.Errorf("store: stat blob %s: %w", digest, err)
	}
	return fi, nil
}

// RemoveBlob deletes the blob digest, which the caller found corrupted. It is
// not an error if the blob is already gone (another process removed it).
func (s *Store) RemoveBlob(digest string) error {
	if !validHex(digest) {
		return fmt.Errorf("store: remove blob %q: %w", digest, ErrInvalidName)
	}
	if err := os.Remove(s.BlobPath(digest)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: remove blob %s: %w", digest, err)
	}
	return nil
}

// Materialize makes dst a file with the blob's content and reports how.
//
// It first unlinks dst, so that a dst which is a hard link to some blob (or
// to anything else) is never written through. Then it tries, in order:
// reflink into a temp name beside dst; hard link (only if allowHardlink);
// plain copy. The temp file is renamed over dst, so dst is never seen
// partial. Reflinks and copies are dst's own file: they get the mode rustc's
// output would get in this process, 0666 (0777 for executable blobs) less
// the umask (package umask: with umask 002 plain cargo's programs are
// group-writable), and the current time as mtime, on every platform
// (cloneNew re-stamps a macOS clone, which would keep the blob's mtime); a
// hard link keeps the blob's inode, mode and mtime. The blob itself is only
// ever opened for reading.
//
// A process killed inside Materialize can leave a ".grove-tmp-*" file beside
// dst; the caller's target directory is not the store's to clean.
func (s *Store) Materialize(digest, dst string, allowHardlink bool) (m Method, err error) {
	if !validHex(digest) {
		return "", fmt.Errorf("store: materialize %q: %w", digest, ErrInvalidName)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: materialize %s to %s: %w", digest, dst, err)
		}
	}()
	blob := s.BlobPath(digest)
	in, err := os.Open(blob)
	if err != nil {
		return "", err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return "", err
	}
	exec := st.Mode()&0o111 != 0
	// unlink(2), not os.Remove: never remove a directory in dst's place.
	if err := syscall.Unlink(dst); err != nil && !errors.Is(err, syscall.ENOENT) {
		return "", &fs.PathError{Op: "unlink", Path: dst, Err: err}
	}

	dir := filepath.Dir(dst)
	tmp := filepath.Join(dir, ".grove-tmp-"+strconv.FormatUint(rand.Uint64(), 36))
	// Skip the reflink probe, which costs creating and deleting an inode,
	// on file systems known to have no clones (ext4, tmpfs): for a link
	// and for a private copy alike.
	reflink := mayReflink(dir)
	if allowHardlink && !reflink {
		if os.Link(blob, tmp) == nil {
			if err := os.Rename(tmp, dst); err != nil {
				os.Remove(tmp)
				return "", err
			}
			return MethodHardlink, nil
		}
		allowHardlink = false // tried; go on to copy
	}
	// Created with perm, the kernel applies the umask (open(2)), as for
	// rustc's own outputs; a macOS clone applies it itself (cloneNew).
	perm := fs.FileMode(0o666)
	if exec {
		perm = 0o777
	}
	if reflink {
		if f, cerr := cloneNew(in, tmp, perm); cerr == nil {
			if err := finishTemp(f, tmp, dst); err != nil {
				return "", err
			}
			return MethodReflink, nil
		}
	}
	if allowHardlink {
		if lerr := os.Link(blob, tmp); lerr == nil {
			if err := os.Rename(tmp, dst); err != nil {
				os.Remove(tmp)
				return "", err
			}
			return MethodHardlink, nil
		}
	}
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil && out != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return "", err
	}
	f := out
	out = nil
	if err := finishTemp(f, tmp, dst); err != nil {
		return "", err
	}
	return MethodCopy, nil
}

// finishTemp closes out and renames tmp over dst. On error it removes tmp
// and leaves out closed.
func finishTemp(out *os.File, tmp, dst string) error {
	err := out.Close()
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// HoldTemp hard-links src into tmp/ and returns that path: the inode stays
// there whatever becomes of src's name (Cargo replaces an output by
// rename), until a later PutBlobFrom reads it and the caller removes it.
// It fails where src cannot be linked (another file system).
func (s *Store) HoldTemp(src string) (string, error) {
	tmp := s.tmpPath("held")
	if err := os.Link(src, tmp); err != nil {
		return "", fmt.Errorf("store: hold %s: %w", src, err)
	}
	return tmp, nil
}
