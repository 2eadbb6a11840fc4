package cache_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// fixture returns the files of the bundled example workspace (example/ at
// the repository root), so the tests and the README's demo use the same
// real workspace. It exercises every kind of input the key must cover:
// modules, include_str!, option_env!, features, --cfg, a build script
// generating code into OUT_DIR, and a C static library linked into `alpha`
// that reaches the `app` binary only through `beta` (so only the link
// closure sees it change).
func fixture() map[string]string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "example")
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "target" {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "demo.sh" || d.Name() == "README.md" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[rel] = string(b)
		return nil
	})
	if err != nil {
		panic(err)
	}
	return files
}
