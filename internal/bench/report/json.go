package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// ReadJSON decodes a report written by the --json output or results file.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("reading bench report: %w", err)
	}
	if rep.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("bench report format %d, want %d", rep.FormatVersion, FormatVersion)
	}
	return &rep, nil
}
