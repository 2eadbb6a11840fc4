package restore

import "github.com/grove-rs/grove/internal/atomicfile"

// writeFile writes a file of grove's own (the dep-info) into a target dir:
// never through a link or a planted name (see package atomicfile); 0644 as
// rustc writes it.
func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}
