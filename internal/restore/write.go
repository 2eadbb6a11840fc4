package restore

import "github.com/grove-rs/grove/internal/atomicfile"

// writeFile writes a file of grove's own (the dep-info) into a target dir:
// never through a link or a planted name (see package atomicfile); with the
// mode rustc's would get in this process (0666 less the umask).
func writeFile(path string, data []byte) error {
	return atomicfile.WriteOutput(path, data, false)
}
