package bench

import (
	"fmt"

	"github.com/grove-rs/grove/internal/bench/report"
)

// loadWarnShare is the share of the machine's CPU time other processes may
// take during the measured steps before the report warns about it.
const loadWarnShare = 0.10

// loadNote returns a warning when other processes used a noticeable share
// of the machine while builds were measured, or "". Wall times measured on
// a busy machine are inflated; CPU times much less so.
func loadNote(samples []report.Sample, cpus int) string {
	var other, wall float64
	for _, s := range samples {
		if s.Error == "" && s.WallSeconds > 0 {
			other += s.OtherCPUSeconds
			wall += s.WallSeconds
		}
	}
	if wall <= 0 || cpus <= 0 {
		return ""
	}
	share := other / (wall * float64(cpus))
	if share < loadWarnShare {
		return ""
	}
	return fmt.Sprintf("the machine was busy: other processes used %.0f CPU-s during the measured steps (%.0f%% of its %d CPUs), so wall times are inflated; compare CPU times or rerun on a quiet machine",
		other, share*100, cpus)
}
