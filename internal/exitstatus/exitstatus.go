// Package exitstatus hands a child's end on as grove's own. grove stands
// between Cargo and a program Cargo means to run (rustc, a build script):
// when that program is killed by a signal, Cargo must see grove killed by
// the same signal, or it reports "exit status: 1" where plain cargo
// reports "signal: 6, SIGABRT: process abort signal" — a different result.
//
// A status is an int, as os.Exit takes one: a value from 0 to 255 is an
// exit code, a negative value -n is death by signal n&0x7f, with a core
// dumped if n&0x80 (as in a wait status: Cargo says "(core dumped)"). Only
// Exit turns it into the process's end.
package exitstatus

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// FromWait returns the status of a child from the error of exec.Cmd's
// Run or Wait. ok is false when err is not the child's end (it could not
// be started, or a copy of its output failed): the caller reports that.
func FromWait(err error) (status int, ok bool) {
	if err == nil {
		return 0, true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	if ws, wok := ee.Sys().(syscall.WaitStatus); wok && ws.Signaled() {
		n := int(ws.Signal())
		if ws.CoreDump() {
			n |= coreFlag
		}
		return -n, true
	}
	return ee.ExitCode(), true
}

// coreFlag marks, in -status, a child that dumped core.
const coreFlag = 0x80

// Signal reports the signal a status stands for, if it is one.
func Signal(status int) (syscall.Signal, bool) {
	if status < 0 {
		return syscall.Signal(-status &^ coreFlag), true
	}
	return 0, false
}

// coreDumped reports whether a status is death by a signal with a core
// dumped.
func coreDumped(status int) bool { return status < 0 && -status&coreFlag != 0 }

// String describes a status for logs ("exit 1", "signal 9 (killed)").
func String(status int) string {
	if sig, ok := Signal(status); ok {
		if coreDumped(status) {
			return fmt.Sprintf("signal %d (%v, core dumped)", int(sig), sig)
		}
		return fmt.Sprintf("signal %d (%v)", int(sig), sig)
	}
	return fmt.Sprintf("exit %d", status)
}

// Exit ends the process with status. For a signal it resets the signal's
// handler to the default and sends it to itself (raise), so the process
// dies by it as the child did; should it survive that (the signal is
// ignored, or stops rather than kills), it exits with 128+n, the shell's
// convention. A child that dumped no core (its limit, or a signal that
// dumps none) makes grove dump none either: its core size limit is set to
// 0 first, so Cargo never says "(core dumped)" where plain cargo does not,
// nor does a core of grove's land in the package dir. One that did is
// followed, limit unchanged. Exit never returns.
func Exit(status int) {
	if sig, ok := Signal(status); ok {
		if !coreDumped(status) {
			_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
		}
		raise(sig)
		os.Exit(128 + int(sig))
	}
	os.Exit(status)
}
