package remote

import (
	"fmt"
	"strings"
)

// checkName refuses names that are not "<namespace>/<key>" with plain
// segments, so that no name can climb out of a directory or prefix.
func checkName(name string) error {
	ns, key, ok := strings.Cut(name, "/")
	if !ok || ns == "" || key == "" || strings.Contains(key, "/") {
		return fmt.Errorf("bad remote object name %q (want namespace/key)", name)
	}
	for _, seg := range []string{ns, key} {
		if seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return fmt.Errorf("bad remote object name %q", name)
		}
		for _, r := range seg {
			if r < 0x21 || r > 0x7e || r == '\\' {
				return fmt.Errorf("bad remote object name %q", name)
			}
		}
	}
	return nil
}
