package bench

import (
	"fmt"
	"os"
	"path/filepath"

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
	if err := writeAtomic(jsonPath, func(f *os.File) error { return cli.WriteJSON(f, rep) }); err != nil {
		return "", "", err
	}
	title := fmt.Sprintf("grove bench: %s (median of %d runs)", rep.Repo, rep.Runs)
	if err := writeAtomic(svgPath, func(f *os.File) error {
		return report.WriteSVG(f, title, rep.Summaries, ScenarioTitles())
	}); err != nil {
		return "", "", err
	}
	return jsonPath, svgPath, nil
}

func writeAtomic(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	err = f.Chmod(0o644) // CreateTemp's 0600 is for secrets, not results
	if err == nil {
		err = write(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
