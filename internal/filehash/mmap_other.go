//go:build !linux && !darwin

package filehash

import (
	"errors"
	"os"
)

// Map does not map here: callers read.
func Map(path string) (data []byte, unmap func(), err error) {
	return nil, nil, errors.New("not mapped")
}

// mapOpen does not map here either.
func mapOpen(*os.File, os.FileInfo) (data []byte, unmap func(), err error) {
	return nil, nil, errors.New("not mapped")
}
