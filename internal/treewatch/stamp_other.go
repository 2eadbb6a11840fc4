//go:build !linux

package treewatch

import (
	"fmt"
	"io/fs"
	"time"
)

// stamp identifies a dir's state by its mtime (there is no watch here
// anyway: Start fails).
func stamp(fi fs.FileInfo) (string, time.Time) {
	return fmt.Sprint(fi.ModTime().UnixNano()), fi.ModTime()
}
