package store

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// PutBlobFrom ingests what r yields as the blob digest: a blob fetched from
// elsewhere (a remote cache), whose content the caller verifies while it
// streams. The data goes to a temp file under tmp/; r must yield exactly
// size bytes, then check runs (the caller compares the digest it computed
// from r with digest) and only if it returns nil is the file fsync'ed and
// published under its name (invariant 1: a transfer that dies half-way, or
// content that is not what its digest names, leaves only a temp file that
// is removed at once). exec gives the blob mode 0755 (a program), else 0644.
// An existing blob is kept and r is not read.
func (s *Store) PutBlobFrom(digest string, r io.Reader, size int64, exec bool, check func() error) (err error) {
	if !validHex(digest) {
		return fmt.Errorf("store: put blob %q: %w", digest, ErrInvalidName)
	}
	final := s.BlobPath(digest)
	if _, err := os.Lstat(final); err == nil {
		return nil
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: put blob %s: %w", digest, err)
		}
	}()
	tmp := s.tmpPath("blob")
	out, err := s.createExcl(tmp, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	n, err := io.Copy(out, io.LimitReader(r, size+1))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%w: got %d bytes, want %d", ErrSize, n, size)
	}
	if err := check(); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	mode := blobMode(0)
	if exec {
		mode = blobMode(0o100)
	}
	if err := out.Chmod(mode); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return s.publish(tmp, final)
}

// ErrSize is wrapped by PutBlobFrom's error when the stream was not the
// size it was said to be.
var ErrSize = errors.New("wrong size")
