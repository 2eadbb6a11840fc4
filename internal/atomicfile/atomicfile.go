// Package atomicfile is grove's one way to replace a file: what it puts into
// a target dir (dep-info, seeded fingerprints and build-script outputs,
// copied artifacts), the Cargo configs and .gitignore lines init writes, the
// git hook, and bench's result files. A reader (Cargo, git) never sees a
// partial file and nothing planted at the name is written through:
//
//   - the data goes into a new file beside the destination with a random
//     name, created with O_EXCL (O_CREAT|O_EXCL never follows a symlink, and
//     a file planted at that name makes the create fail);
//   - then it is renamed over the destination, which replaces whatever is
//     there, a symlink or a hardlink into the store included, without
//     following it.
//
// The result is a regular file that nothing else shares.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write puts data at path with mode perm.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, perm, false, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteDurable is Write for a file a user keeps (a Cargo config): the data
// is synced to disk before the rename, so a crash leaves the old or the new
// file, never an empty one. Not for the wrapper's outputs: a sync per
// dep-info would cost every hit a disk flush.
func WriteDurable(path string, data []byte, perm os.FileMode) error {
	return write(path, perm, true, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteWith puts at path, with mode perm, what fill writes.
func WriteWith(path string, perm os.FileMode, fill func(io.Writer) error) error {
	return write(path, perm, false, func(f *os.File) error { return fill(f) })
}

// Copy puts a copy of the file src at path with mode perm.
func Copy(src, path string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return write(path, perm, false, func(f *os.File) error {
		if _, err := io.Copy(f, in); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		return nil
	})
}

func write(path string, perm os.FileMode, sync bool, fill func(*os.File) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".grove-tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil { // CreateTemp makes 0600
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
