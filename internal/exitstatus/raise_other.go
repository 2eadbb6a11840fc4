//go:build !linux

package exitstatus

import (
	"os"
	"strconv"
	"syscall"
)

// raise dies by sig. Go's runtime catches SIGABRT, SIGSEGV and the like
// and turns them into a traceback and exit status 2, and outside Linux
// there is no portable way to set a handler back to SIG_DFL from Go; but
// exec does exactly that for every caught signal. So grove becomes a shell
// (the same process, which its parent waits for) that kills itself with
// sig. It returns only if the exec fails.
func raise(sig syscall.Signal) {
	n := strconv.Itoa(int(sig))
	_ = syscall.Exec("/bin/sh", []string{"sh", "-c", "kill -" + n + " $$; exit $((128+" + n + "))"}, os.Environ())
}
