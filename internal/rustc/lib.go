package rustc

import "strings"

// An rlib and its rmeta are the two outputs of one library unit: the rlib
// for the linker, the rmeta for dependents that need only metadata (cargo
// check, pipelining). Their names differ only in the extension; this file
// is the one place that maps one to the other.

// IsLib reports whether name is a library output: an rlib or an rmeta.
func IsLib(name string) bool {
	return strings.HasSuffix(name, ".rlib") || strings.HasSuffix(name, ".rmeta")
}

// SiblingLib returns the rlib of an rmeta and the other way round, "" for
// anything else.
func SiblingLib(p string) string {
	switch {
	case strings.HasSuffix(p, ".rmeta"):
		return strings.TrimSuffix(p, ".rmeta") + ".rlib"
	case strings.HasSuffix(p, ".rlib"):
		return strings.TrimSuffix(p, ".rlib") + ".rmeta"
	}
	return ""
}

// RlibOf returns the rlib of a library output: p itself for an rlib, its
// sibling for an rmeta, "" for anything else.
func RlibOf(p string) string {
	if strings.HasSuffix(p, ".rlib") {
		return p
	}
	if strings.HasSuffix(p, ".rmeta") {
		return SiblingLib(p)
	}
	return ""
}
