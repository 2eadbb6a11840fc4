// Package cpuid stands in for github.com/klauspost/cpuid/v2 (go.mod
// replaces it with this directory). That package's init runs a full CPU
// detection, hundreds of CPUID instructions, each a trap to the
// hypervisor on a virtual machine: about 0.45 ms of every grove process,
// which Cargo starts once per compilation unit, about a tenth of a hit's
// CPU. grove's dependencies (blake3, xxh3, md5-simd, crc64nvme) only ask
// whether a few instruction sets are there, and golang.org/x/sys/cpu,
// already linked, knows those, operating-system support included. This
// package gives them that answer through the API they use, and nothing
// else: a dependency that asks for more fails to build, it cannot get a
// wrong answer.
package cpuid

import "golang.org/x/sys/cpu"

// FeatureID is an instruction set a dependency may ask about.
type FeatureID int

// The features grove's dependencies ask about.
const (
	UNKNOWN FeatureID = iota
	// x86
	AVX2
	AVX512DQ
	AVX512F
	AVX512VL
	CLMUL
	SSE2
	SSE4 // SSE4.1
	VPCLMULQDQ
	// arm64
	ASIMD
	PMULL
	SHA3
)

// CPUInfo answers for the CPU this process runs on.
type CPUInfo struct{}

// CPU is the CPU this process runs on.
var CPU CPUInfo

// Has reports whether the CPU and the operating system support id.
func (CPUInfo) Has(id FeatureID) bool {
	switch id {
	case AVX2:
		return cpu.X86.HasAVX2
	case AVX512DQ:
		return cpu.X86.HasAVX512DQ
	case AVX512F:
		return cpu.X86.HasAVX512F
	case AVX512VL:
		return cpu.X86.HasAVX512VL
	case CLMUL:
		return cpu.X86.HasPCLMULQDQ
	case SSE2:
		return cpu.X86.HasSSE2
	case SSE4:
		return cpu.X86.HasSSE41
	case VPCLMULQDQ:
		return cpu.X86.HasAVX512VPCLMULQDQ
	case ASIMD:
		return cpu.ARM64.HasASIMD
	case PMULL:
		return cpu.ARM64.HasPMULL
	case SHA3:
		return cpu.ARM64.HasSHA3
	}
	return false
}

// Supports reports whether the CPU supports every one of ids.
func (c CPUInfo) Supports(ids ...FeatureID) bool {
	for _, id := range ids {
		if !c.Has(id) {
			return false
		}
	}
	return true
}
