//go:build unix

package stats

import (
	"os"
	"syscall"
)

// ChildCPU returns the CPU time (user+sys, µs) of a child that has exited:
// the rustc or build script an event's ChildCPUUs records. 0 for nil.
func ChildCPU(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	return (ps.UserTime() + ps.SystemTime()).Microseconds()
}

// OwnCPU returns the CPU time (user+sys, µs) this process has cost so far
// besides child, the CPU of the one child it ran for Cargo (ChildCPU): its
// own, runtime start included, plus that of any helper it waited for (git
// status for a build-script run, a verifying rustc), which are grove's
// cost too. It is what an event's CPUUs records.
func OwnCPU(child int64) int64 {
	var self, kids syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil {
		return 0
	}
	us := rusageUs(&self)
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids) == nil {
		us += max(rusageUs(&kids)-child, 0)
	}
	return us
}

func rusageUs(ru *syscall.Rusage) int64 {
	return (ru.Utime.Nano() + ru.Stime.Nano()) / 1000
}
