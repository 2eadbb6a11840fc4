package remote_test

import (
	"testing"

	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/settings"
)

// `grove config` lists every variable the remote reads, the secret ones
// masked.
func TestSettingsListRemoteVars(t *testing.T) {
	listed := map[string]settings.Var{}
	for _, v := range settings.Vars {
		listed[v.Name] = v
	}
	for _, name := range []string{remote.EnvURL, remote.EnvEndpoint, remote.EnvReadOnly, remote.EnvSecret} {
		if _, ok := listed[name]; !ok {
			t.Errorf("settings.Vars does not list %s", name)
		}
	}
	if got := listed[remote.EnvSecret].Show("k3y"); got == "k3y" {
		t.Errorf("%s shown as %q", remote.EnvSecret, got)
	}
	if got := listed[remote.EnvURL].Show("redis://:pa55@127.0.0.1:6379/0"); got != "redis://:xxxxx@127.0.0.1:6379/0" {
		t.Errorf("%s shown as %q", remote.EnvURL, got)
	}
}
