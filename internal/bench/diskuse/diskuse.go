// Package diskuse measures the disk space build outputs really take.
//
// Strategies that share files between worktrees (hardlinks into a store,
// one shared target dir) would look enormous to a naive `du` that adds up
// file sizes per tree. Bytes counts each inode once across all the paths
// it is given, and counts allocated blocks, not apparent sizes, so sparse
// files and hardlinks cost what they cost on disk.
package diskuse

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

type inode struct{ dev, ino uint64 }

// Bytes returns the bytes allocated (st_blocks × 512) by the files and
// directories under paths, each inode counted once. Paths that do not
// exist count as zero; symlinks are not followed.
func Bytes(paths ...string) (int64, error) {
	seen := make(map[inode]bool)
	var total int64
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // a file removed while we walk (or a missing root)
				}
				return err
			}
			fi, err := os.Lstat(path)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			st, ok := fi.Sys().(*syscall.Stat_t)
			if !ok {
				total += fi.Size()
				return nil
			}
			key := inode{uint64(st.Dev), uint64(st.Ino)}
			if seen[key] {
				return nil
			}
			seen[key] = true
			total += int64(st.Blocks) * 512
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
