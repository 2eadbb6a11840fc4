package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/grove-rs/grove/internal/cli"
)

// Chart geometry, in SVG user units (pixels at 100 %).
const (
	chartWidth  = 760
	labelWidth  = 120 // strategy names, left of the bars
	valueWidth  = 150 // the figure, right of the longest bar
	barHeight   = 18
	barGap      = 6
	panelTitle  = 26
	panelGap    = 16
	chartMargin = 16
)

// colour gives each strategy a fixed colour, so a strategy looks the same
// in every panel and every chart; unknown names share one.
func colour(strategy string) string {
	switch strategy {
	case "plain":
		return "#9e9e9e"
	case "shared":
		return "#e69f00"
	case "sccache":
		return "#56b4e9"
	case "grove":
		return "#009e73"
	case "grove-seeded":
		return "#0072b2"
	}
	return "#cc79a7"
}

// WriteSVG draws one panel per scenario with a horizontal bar per
// strategy: the median wall time (disk bytes for the disk scenario), a
// whisker from minimum to maximum, and the figure with its ratio to plain.
// Each panel has its own scale, since a cold build and a no-op differ by
// three orders of magnitude. The SVG is hand-written and has no scripts.
func WriteSVG(w io.Writer, title string, sums []Summary, titles map[string]string) error {
	type panel struct {
		name string
		rows []Summary
	}
	var panels []panel
	for _, s := range sums {
		if len(panels) == 0 || panels[len(panels)-1].name != s.Scenario {
			panels = append(panels, panel{name: s.Scenario})
		}
		p := &panels[len(panels)-1]
		p.rows = append(p.rows, s)
	}
	height := chartMargin*2 + 30
	for _, p := range panels {
		height += panelTitle + len(p.rows)*(barHeight+barGap) + panelGap
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="16" font-weight="bold">%s</text>`+"\n", chartMargin, chartMargin+14, esc(title))
	y := chartMargin + 30
	barMax := float64(chartWidth - 2*chartMargin - labelWidth - valueWidth)
	for _, p := range panels {
		head := p.name
		if t := titles[p.name]; t != "" {
			head += " — " + t
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", chartMargin, y+16, esc(head))
		y += panelTitle
		scale := 0.0
		for _, s := range p.rows {
			scale = max(scale, s.Headline(), high(s))
		}
		for _, s := range p.rows {
			x0 := float64(chartMargin + labelWidth)
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", chartMargin+8, y+barHeight-5, esc(s.Strategy))
			if s.Runs == 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#b00020">failed: %s</text>`+"\n", x0, y+barHeight-5, esc(truncate(s.Error, 80)))
				y += barHeight + barGap
				continue
			}
			wid := 0.0
			if scale > 0 {
				wid = s.Headline() / scale * barMax
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				x0, y, wid, barHeight, colour(s.Strategy), esc(s.Strategy+" "+s.Scenario+": "+figure(s)))
			if s.Scenario != DiskScenario && scale > 0 && s.Runs > 1 {
				lo, hi := x0+s.WallMin/scale*barMax, x0+s.WallMax/scale*barMax
				mid := y + barHeight/2
				fmt.Fprintf(&b, `<path d="M%.1f %dH%.1fM%.1f %dV%dM%.1f %dV%d" stroke="#333333" fill="none"/>`+"\n",
					lo, mid, hi, lo, mid-4, mid+4, hi, mid-4, mid+4)
			}
			label := figure(s)
			if s.VsPlain != nil && s.Strategy != "plain" {
				label += "  " + RatioString(s.VsPlain) + " plain"
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", x0+max(wid, high(s)/max(scale, 1e-12)*barMax)+6, y+barHeight-5, esc(label))
			y += barHeight + barGap
		}
		y += panelGap
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// high is the right end of a summary's whisker (0 for disk).
func high(s Summary) float64 {
	if s.Scenario == DiskScenario {
		return 0
	}
	return s.WallMax
}

// figure is the headline figure as text.
func figure(s Summary) string {
	if s.Scenario == DiskScenario {
		return cli.HumanBytes(s.DiskMedian)
	}
	return Seconds(s.WallMedian)
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// esc escapes text for an SVG text node or attribute.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
