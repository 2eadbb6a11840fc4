package restore

import (
	"path/filepath"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/umask"
)

// writeFile writes a file of grove's own (the dep-info) into a target dir:
// never through a link or a planted name (see package atomicfile); with the
// mode rustc's would get in this process (0666 less the umask).
func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, data, umask.Mode(filepath.Dir(path), false))
}
