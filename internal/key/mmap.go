//go:build linux || darwin

package key

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps path read-only into memory, for the pin scan (pin.go): the
// outputs it reads are up to hundreds of MB, mostly debug info it skips,
// and reading them would copy every byte. An empty or non-regular file is
// not mapped (an error: the caller reads it).
func mapFile(path string) (data []byte, unmap func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if size := fi.Size(); !fi.Mode().IsRegular() || size <= 0 || int64(int(size)) != size {
		return nil, nil, errors.New("not mapped")
	}
	data, err = unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { unix.Munmap(data) }, nil
}
