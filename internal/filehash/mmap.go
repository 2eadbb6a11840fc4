//go:build linux || darwin

package filehash

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Map maps path read-only into memory. Reading a large file would copy
// every byte from the page cache into the process, which is most of the
// system time of hashing a fresh output (hashContent) and of the pin scan
// (package key), which skips most of an output's bytes and so never even
// pages them in. An empty or non-regular file is not mapped (an error: the
// caller reads it). Touching the mapping of a file that shrank since
// faults: callers turn that into a panic with debug.SetPanicOnFault and
// read the file instead (see hashMapped).
func Map(path string) (data []byte, unmap func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	return mapOpen(f, fi)
}

// mapOpen is Map of an open file whose FileInfo the caller has; the
// mapping stays valid after f is closed.
func mapOpen(f *os.File, fi os.FileInfo) (data []byte, unmap func(), err error) {
	if size := fi.Size(); !fi.Mode().IsRegular() || size <= 0 || int64(int(size)) != size {
		return nil, nil, errors.New("not mapped")
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { unix.Munmap(data) }, nil
}
