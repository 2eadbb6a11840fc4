//go:build !unix

package stats

import "os"

// ChildCPU is not measured here (cpu.go).
func ChildCPU(ps *os.ProcessState) int64 { return 0 }

// OwnCPU is not measured here (cpu.go).
func OwnCPU(child int64) int64 { return 0 }
