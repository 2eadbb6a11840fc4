package settings

import (
	"reflect"
	"strings"
	"testing"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"HOME": "/home/u", "GROVE_DISABLE": "0", "GROVE_VERIFY": "yes",
		"GROVE_EXCLUDE": "sqlx-macros, askama_derive", "GROVE_EXTRA_ENV": "DATABASE_URL",
	}
	s := FromEnv(func(k string) string { return env[k] })
	if s.Dir != "/home/u/.cache/grove" || s.Disable || !s.Verify {
		t.Errorf("settings = %+v", s)
	}
	if !reflect.DeepEqual(s.Exclude, []string{"sqlx-macros", "askama_derive"}) || !s.Excluded("sqlx_macros") || s.Excluded("serde") {
		t.Errorf("exclude = %v", s.Exclude)
	}
	env["XDG_CACHE_HOME"] = "/xdg"
	if s := FromEnv(func(k string) string { return env[k] }); s.Dir != "/xdg/grove" {
		t.Errorf("XDG: %s", s.Dir)
	}
	env["GROVE_DIR"] = "/store"
	if s := FromEnv(func(k string) string { return env[k] }); s.Dir != "/store" {
		t.Errorf("GROVE_DIR: %s", s.Dir)
	}
}

// Vars, which `grove config` prints, names every variable FromEnv reads.
func TestVarsCoverFromEnv(t *testing.T) {
	read := map[string]bool{}
	FromEnv(func(k string) string { read[k] = true; return "" })
	delete(read, "HOME")
	delete(read, "XDG_CACHE_HOME")
	for _, v := range Vars {
		if strings.HasPrefix(v.Name, "GROVE_REMOTE") {
			continue // read by package remote, whose test checks them
		}
		if !read[v.Name] {
			t.Errorf("Vars lists %s, which FromEnv does not read", v.Name)
		}
		delete(read, v.Name)
	}
	for k := range read {
		t.Errorf("FromEnv reads %s, missing from Vars", k)
	}
}

func TestCheckRelativePaths(t *testing.T) {
	for _, tc := range []struct {
		env map[string]string
		ok  bool
	}{
		{map[string]string{"GROVE_DIR": "/abs/store", "GROVE_LOG": "/abs/log"}, true},
		{map[string]string{"HOME": "/home/u"}, true},
		{map[string]string{"GROVE_DIR": ".grove"}, false},
		{map[string]string{"GROVE_DIR": "/s", "GROVE_LOG": "grove.log"}, false},
	} {
		s := FromEnv(func(k string) string { return tc.env[k] })
		if err := s.Check(); (err == nil) != tc.ok {
			t.Errorf("%v: Check() = %v, want ok=%v", tc.env, err, tc.ok)
		}
	}
}

// Build-script runs are cached unless turned off explicitly.
func TestCacheBuildScriptsDefault(t *testing.T) {
	for v, want := range map[string]bool{"": true, "1": true, "yes": true, "0": false, "off": false, "false": false, "no": false} {
		if got := FromEnv(func(k string) string {
			if k == "GROVE_CACHE_BUILD_SCRIPTS" {
				return v
			}
			return ""
		}).CacheBuildScripts; got != want {
			t.Errorf("GROVE_CACHE_BUILD_SCRIPTS=%q: %v, want %v", v, got, want)
		}
	}
}
