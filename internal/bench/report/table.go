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
	writeRemote(&b, sums)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRemote adds a block for the steps of strategies with a remote
// cache: bytes moved each way (medians; for other-machine also what the
// first machine's build uploaded before it, "CI up"), the local misses the remote
// served and those it failed, grove's median wrapper time of a hit (on
// the second machine, whose store starts empty: a remote hit) and of
// that the part asking the remote: a remote hit's cost over a local hit.
func writeRemote(b *strings.Builder, sums []Summary) {
	rows := [][]string{{"scenario", "strategy", "CI up", "up", "down", "remote hits", "remote failed", "median hit", "of which remote"}}
	for _, s := range sums {
		if s.Runs == 0 || (s.RemoteUpMedian == nil && s.RemoteHitsMedian == nil) {
			continue
		}
		row := []string{s.Scenario, s.Strategy, "-", "-", "-", "-", "-", "-", "-"}
		if s.RemoteFillMedian != nil {
			row[2] = cli.HumanBytes(*s.RemoteFillMedian)
		}
		if s.RemoteUpMedian != nil {
			row[3], row[4] = cli.HumanBytes(*s.RemoteUpMedian), cli.HumanBytes(*s.RemoteDownMedian)
		}
		if s.RemoteHitsMedian != nil {
			row[5], row[6] = count(*s.RemoteHitsMedian), count(*s.RemoteFailMedian)
		}
		if s.HitMsMedian != nil {
			row[7] = fmt.Sprintf("%.1f ms", *s.HitMsMedian)
		}
		if s.RemoteHitMsMedian != nil {
			row[8] = fmt.Sprintf("%.1f ms", *s.RemoteHitMsMedian)
		}
		rows = append(rows, row)
	}
	if len(rows) == 1 {
		return
	}
	b.WriteString("\nremote — bytes moved (on the wire, medians), local misses the remote served or failed\n")
	for _, line := range align(rows) {
		b.WriteString("  " + line + "\n")
	}
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
