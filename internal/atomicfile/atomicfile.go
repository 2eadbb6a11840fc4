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
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// TempPrefix starts the name of the file a write fills before renaming it
// into place: a name grove's own, so a check of what a build script wrote
// beside OUT_DIR can tell grove's files from the script's.
const TempPrefix = ".grove-tmp-"

// Write puts data at path with mode perm.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, perm, false, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteOutput puts data at path in place of a file a compiler or build
// script would write: its mode is 0666 (0777 when exec) less the process's
// umask, as open(2) gives rustc's outputs, so with umask 002 it is
// group-writable like plain cargo's. The kernel applies the umask; nothing
// has to read it.
func WriteOutput(path string, data []byte, exec bool) error {
	perm := os.FileMode(0o666)
	if exec {
		perm = 0o777
	}
	return writeFile(path, perm, false, false, func(f *os.File) error {
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

// WriteFrom puts what r yields at path with mode perm. want is the number
// of bytes r must yield (-1: any); a short or long stream, or a read error,
// leaves nothing at path, so a transfer that dies half-way is never seen.
func WriteFrom(path string, r io.Reader, want int64, perm os.FileMode) error {
	return write(path, perm, false, func(f *os.File) error {
		n, err := io.Copy(f, r)
		if err != nil {
			return err
		}
		if want >= 0 && n != want {
			return fmt.Errorf("got %d bytes, want %d", n, want)
		}
		return nil
	})
}

func write(path string, perm os.FileMode, sync bool, fill func(*os.File) error) (err error) {
	return writeFile(path, perm, true, sync, fill)
}

// writeFile is write with the mode exactly perm, or (exact false) perm less
// the umask, as open(2) applies it.
func writeFile(path string, perm os.FileMode, exact, sync bool, fill func(*os.File) error) (err error) {
	var f *os.File
	if exact {
		f, err = os.CreateTemp(filepath.Dir(path), TempPrefix+"*")
	} else {
		f, err = createTemp(filepath.Dir(path), perm)
	}
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
	if exact {
		if err := f.Chmod(perm); err != nil { // CreateTemp makes 0600
			return err
		}
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

// createTemp is os.CreateTemp with mode perm (less the umask) instead of
// 0600: a new file with a random name in dir, created with O_EXCL.
func createTemp(dir string, perm os.FileMode) (*os.File, error) {
	for range 10000 {
		name := filepath.Join(dir, TempPrefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if os.IsExist(err) {
			continue
		}
		return f, err
	}
	return nil, &os.PathError{Op: "createtemp", Path: dir + "/.grove-tmp-*", Err: os.ErrExist}
}
