package bench

import (
	"reflect"
	"strings"
	"testing"
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
