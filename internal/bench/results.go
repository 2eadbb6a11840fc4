package bench

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/bench/report"
	"github.com/grove-rs/grove/internal/cli"
)

// Result file names inside the output directory.
const (
	JSONFile = "bench.json"
	SVGFile  = "bench.svg"
)

// WriteFiles writes the report as JSON and the chart as SVG into dir and
// returns their paths. Each is written to a temp name and renamed, so a
// reader never sees half a file.
func WriteFiles(rep *report.Report, dir string) (jsonPath, svgPath string, err error) {
	jsonPath = filepath.Join(dir, JSONFile)
	svgPath = filepath.Join(dir, SVGFile)
	if err := writeAtomic(jsonPath, func(f io.Writer) error { return cli.WriteJSON(f, rep) }); err != nil {
		return "", "", err
	}
	title := fmt.Sprintf("grove bench: %s (median of %d runs)", rep.Repo, rep.Runs)
	if err := writeAtomic(svgPath, func(f io.Writer) error {
		return report.WriteSVG(f, title, rep.Summaries, ScenarioTitles())
	}); err != nil {
		return "", "", err
	}
	return jsonPath, svgPath, nil
}

func writeAtomic(path string, write func(io.Writer) error) error {
	// 0644: CreateTemp's 0600 is for secrets, not results.
	if err := atomicfile.WriteWith(path, 0o644, write); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
