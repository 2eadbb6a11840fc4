// Package progress prints the live status line of a long benchmark on
// stderr: which scenario, strategy and run is going, and for how long.
//
// On a terminal the line is redrawn in place every second (\r); anywhere
// else (a CI log, a pipe) each step prints one line when it starts and one
// when it ends, so logs stay readable.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Line is the progress line. Its methods are safe for concurrent use.
type Line struct {
	w     io.Writer
	tty   bool
	start time.Time // of the whole benchmark

	mu       sync.Mutex
	step     string
	stepFrom time.Time
	width    int // of the last drawn line, to blank it out
	stop     chan struct{}
	done     chan struct{}
}

// New returns a progress line writing to w. tty selects in-place redraws.
func New(w io.Writer, tty bool) *Line {
	return &Line{w: w, tty: tty, start: time.Now()}
}

// IsTerminal reports whether f is a character device (a terminal), the
// test every CLI uses to decide on \r redraws, without a dependency.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Step announces that a step began: "cold · plain · run 1/3".
func (l *Line) Step(scenario, strategy string, run, runs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.step = fmt.Sprintf("%s · %s · run %d/%d", scenario, strategy, run, runs)
	l.stepFrom = time.Now()
	if l.tty {
		l.drawLocked()
		l.ensureTickerLocked()
		return
	}
	fmt.Fprintf(l.w, "grove bench: %s … (total %s)\n", l.step, short(time.Since(l.start)))
}

// Done reports the end of the current step with a short result ("78.1 s").
func (l *Line) Done(result string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.step == "" {
		return
	}
	msg := fmt.Sprintf("grove bench: %s: %s", l.step, result)
	if l.tty {
		l.clearLocked()
	}
	fmt.Fprintln(l.w, msg)
	l.step = ""
}

// Note prints a message on its own line without losing the status line.
func (l *Line) Note(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty {
		l.clearLocked()
	}
	fmt.Fprintf(l.w, "grove bench: "+format+"\n", args...)
	if l.tty && l.step != "" {
		l.drawLocked()
	}
}

// Close stops the redraw ticker and clears the line.
func (l *Line) Close() {
	l.mu.Lock()
	stop, done := l.stop, l.done
	l.stop = nil
	l.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	l.mu.Lock()
	if l.tty {
		l.clearLocked()
	}
	l.mu.Unlock()
}

func (l *Line) ensureTickerLocked() {
	if l.stop != nil {
		return
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.mu.Lock()
				if l.step != "" {
					l.drawLocked()
				}
				l.mu.Unlock()
			}
		}
	}(l.stop, l.done)
}

func (l *Line) drawLocked() {
	s := fmt.Sprintf("grove bench: %s · %s (total %s)", l.step, short(time.Since(l.stepFrom)), short(time.Since(l.start)))
	pad := max(0, l.width-len([]rune(s)))
	fmt.Fprint(l.w, "\r"+s+strings.Repeat(" ", pad))
	l.width = len([]rune(s))
}

func (l *Line) clearLocked() {
	if l.width > 0 {
		fmt.Fprint(l.w, "\r"+strings.Repeat(" ", l.width)+"\r")
		l.width = 0
	}
}

// short formats an elapsed time as 4.2s, 1m05s or 1h02m.
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
