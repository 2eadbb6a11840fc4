package key

import (
	"os"
	"strings"
)

// bootID identifies this boot of this machine, or is "" where there is no
// such identity: the memo of the host's CPU (hostcpu.go) lives no longer
// than a boot.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
