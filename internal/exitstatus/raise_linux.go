package exitstatus

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// raise dies by sig as Go's runtime does when it must (dieFromSignal):
// the Go runtime catches SIGABRT, SIGSEGV and the like and turns them
// into a traceback and exit status 2, so the handler is first set back to
// SIG_DFL with rt_sigaction (a zeroed struct sigaction is SIG_DFL with no
// flags and an empty mask on every Linux architecture), the signal is
// unblocked on this thread and sent to it. It returns only if the process
// survives.
func raise(sig syscall.Signal) {
	runtime.LockOSThread()
	var sa [64]byte      // larger than any architecture's struct sigaction
	const sigsetSize = 8 // the kernel's sigset_t, which rt_sigaction checks
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa[0])), 0, sigsetSize, 0, 0)
	var set unix.Sigset_t
	bits := 8 * uint(unsafe.Sizeof(set.Val[0]))
	n := uint(sig) - 1
	set.Val[n/bits] |= 1 << (n % bits)
	_ = unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	_ = unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
}
