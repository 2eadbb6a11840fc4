package restore

import (
	"os"
	"path/filepath"
)

// writeFile puts data at path the way grove writes every file of its own
// into a target dir (the dep-info today; outputs go through
// store.Materialize, which follows the same rule):
//
//   - into a new file beside path with a random name, created with O_EXCL,
//     so a file or a symlink planted at that name makes the create fail
//     instead of being written through (O_CREAT|O_EXCL never follows a
//     symlink);
//   - then renamed over path, which replaces whatever is there, a symlink
//     included, without following it.
//
// The result is a regular file that nothing else shares: Cargo reads and
// may rewrite it.
func writeFile(path string, data []byte) (err error) {
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
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes 0600; rustc's dep-info is 0644
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
