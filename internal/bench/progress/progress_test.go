package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPlainOutputIsOneLinePerEvent(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, false)
	l.Step("cold", "plain", 1, 3)
	l.Note("sccache skipped")
	l.Done("78.1 s")
	l.Close()
	out := b.String()
	if strings.Contains(out, "\r") {
		t.Errorf("carriage return outside a terminal: %q", out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", out)
	}
	for i, want := range []string{"cold · plain · run 1/3", "sccache skipped", "cold · plain · run 1/3: 78.1 s"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want it to contain %q", i, lines[i], want)
		}
	}
}

func TestTerminalOutputRedraws(t *testing.T) {
	var b safeBuffer
	l := New(&b, true)
	l.Step("edit", "grove", 2, 3)
	time.Sleep(1100 * time.Millisecond) // one tick
	l.Done("1.2 s")
	l.Close()
	out := b.String()
	if strings.Count(out, "\rgrove bench: edit · grove · run 2/3 · ") < 2 {
		t.Errorf("want the line drawn and redrawn in place: %q", out)
	}
	if !strings.HasSuffix(out, "edit · grove · run 2/3: 1.2 s\n") {
		t.Errorf("want the result on its own line at the end: %q", out)
	}
}

func TestShort(t *testing.T) {
	for d, want := range map[time.Duration]string{
		4200 * time.Millisecond: "4.2s",
		65 * time.Second:        "1m05s",
		62 * time.Minute:        "1h02m",
	} {
		if got := short(d); got != want {
			t.Errorf("short(%v) = %q, want %q", d, got, want)
		}
	}
}
