package bench

import (
	"reflect"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/bench/report"
)

func TestParseList(t *testing.T) {
	valid := StrategyNames()
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "all", want: valid},
		{in: "shared,plain", want: []string{"plain", "shared"}},
		{in: " grove , plain,grove", want: []string{"plain", "grove"}},
		{in: "plain,,", want: []string{"plain"}},
		{in: "plain,bogus", wantErr: `unknown strategy "bogus"`},
		{in: "", wantErr: "no strategy given"},
	} {
		got, err := ParseList("strategy", tc.in, valid)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseList(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestEveryScenarioHasATitle(t *testing.T) {
	for _, s := range ScenarioNames() {
		if ScenarioTitle(s) == "" {
			t.Errorf("scenario %s has no title", s)
		}
	}
}

func TestLoadNote(t *testing.T) {
	quiet := []report.Sample{{WallSeconds: 100, OtherCPUSeconds: 5}}
	busy := []report.Sample{{WallSeconds: 100, OtherCPUSeconds: 120}, {WallSeconds: 10, Error: "x", OtherCPUSeconds: 999}}
	if n := loadNote(quiet, 2); n != "" {
		t.Errorf("quiet machine: %q", n)
	}
	if n := loadNote(busy, 2); !strings.Contains(n, "60% of its 2 CPUs") {
		t.Errorf("busy machine: %q", n)
	}
	if n := loadNote(nil, 2); n != "" {
		t.Errorf("no samples: %q", n)
	}
}
