package measure

import (
	"os"
	"testing"
)

// getrusage's ru_maxrss is in KiB on Linux and in bytes on macOS: a shell's
// peak resident set, in bytes, is a few MiB on both, never a few KiB or GiB.
func TestMaxRSSIsBytes(t *testing.T) {
	out, err := Run(t.Context(), Command{Dir: t.TempDir(), Env: os.Environ(), Args: []string{"sh", "-c", "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if rss := out.Cost.MaxRSS; rss < 256<<10 || rss > 1<<30 {
		t.Fatalf("MaxRSS of sh = %d bytes: a unit mix-up (KiB vs bytes)", rss)
	}
}
