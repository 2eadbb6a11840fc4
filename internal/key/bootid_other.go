//go:build !linux && !darwin

package key

// bootID is "" where grove knows no identity of a boot: the host's CPU
// (hostcpu.go) is then asked of rustc every time.
func bootID() string { return "" }
