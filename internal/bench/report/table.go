package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/grove-rs/grove/internal/cli"
)

// tableHeader names the columns of WriteTable. Numbers are right-aligned.
func tableHeader() []string {
	return []string{"strategy", "median", "min", "max", "×plain", "×shared", "CPU", "peak RSS", "rustc", "compiled", "fresh", "disk"}
}

// WriteTable writes one block per scenario, one row per strategy, in the
// order of sums. titles gives a scenario's one-line meaning, if known.
func WriteTable(w io.Writer, sums []Summary, titles map[string]string) error {
	var b strings.Builder
	for i := 0; i < len(sums); {
		sc := sums[i].Scenario
		j := i
		for j < len(sums) && sums[j].Scenario == sc {
			j++
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(sc)
		if t := titles[sc]; t != "" {
			b.WriteString(" — " + t)
		}
		b.WriteByte('\n')
		rows := [][]string{tableHeader()}
		for _, s := range sums[i:j] {
			rows = append(rows, tableRow(s))
		}
		for _, line := range align(rows) {
			b.WriteString("  " + line + "\n")
		}
		i = j
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func tableRow(s Summary) []string {
	if s.Runs == 0 {
		msg := fmt.Sprintf("FAILED (%d runs): %s", s.Failed, s.Error)
		return []string{s.Strategy, msg}
	}
	row := []string{s.Strategy}
	if s.Scenario == DiskScenario {
		row = append(row, "-", "-", "-")
	} else {
		row = append(row, Seconds(s.WallMedian), Seconds(s.WallMin), Seconds(s.WallMax))
	}
	row = append(row, RatioString(s.VsPlain), RatioString(s.VsShared))
	if s.Scenario == DiskScenario {
		row = append(row, "-", "-", "-", "-", "-")
	} else {
		row = append(row, Seconds(s.CPUMedian), cli.HumanBytes(s.PeakRSSMedian), count(s.RustcMedian), count(s.CompiledMed), count(s.FreshMed))
	}
	disk := cli.HumanBytes(s.DiskMedian)
	if s.Worktrees > 0 {
		disk += fmt.Sprintf(" (%d wt)", s.Worktrees)
	}
	row = append(row, disk)
	if s.Failed > 0 {
		row[len(row)-1] += fmt.Sprintf("  [%d failed: %s]", s.Failed, s.Error)
	}
	return row
}

// align pads columns to equal width: the first column left-aligned, the
// others right-aligned. A row shorter than the header (a failure message)
// is written as is after its first cell.
func align(rows [][]string) []string {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		if len(r) != len(width) {
			continue
		}
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", max(0, width[min(i, len(width)-1)]-utf8.RuneCountInString(c)))
			switch {
			case i == 0:
				b.WriteString(c + pad)
			case len(r) != len(width):
				b.WriteString("  " + c)
			default:
				b.WriteString("  " + pad + c)
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	return out
}
