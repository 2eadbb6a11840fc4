package key

import "golang.org/x/sys/unix"

// bootID identifies this boot of this machine, or is "" where there is no
// such identity: the memo of the host's CPU (hostcpu.go) lives no longer
// than a boot.
func bootID() string {
	s, err := unix.Sysctl("kern.bootsessionuuid")
	if err != nil {
		return ""
	}
	return s
}
