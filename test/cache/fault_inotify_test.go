package cache_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/testneed"
	"github.com/grove-rs/grove/internal/treewatch"
)

// TestInotifyExhaustedNeverBreaksTheBuild: with the user's inotify
// instances or watches used up, or a tree of more dirs than grove watches,
// a compile's reads (key/reads.go) and a build script's git reads
// (key/githead.go) cannot be watched. The build is plain cargo's, it ends,
// and every unit whose reads went unwatched is not stored, saying why.
//
// The limits are set in a user namespace of the build's own
// (/proc/sys/user/max_inotify_*, which bounds the processes inside it
// only), so other builds on the machine keep theirs and nothing needs
// restoring.
func TestInotifyExhaustedNeverBreaksTheBuild(t *testing.T) {
	t.Parallel()
	if !treewatch.Supported {
		t.Skip("no inotify on this OS: no compile's reads are watched")
	}
	if out, err := exec.Command("unshare", "--user", "--map-root-user", "sh", "-c",
		"echo 0 >/proc/sys/user/max_inotify_instances").CombinedOutput(); err != nil {
		testneed.Missing(t, "userns", fmt.Sprintf("cannot set inotify limits in a user namespace: %v %s", err, out))
	}
	for _, c := range []struct {
		name               string
		instances, watches int
		dirs               int // extra dirs in the tree
		reason             string
	}{
		{"no instance left", 0, 1 << 20, 0, "tree reads not watched: inotify: no instance left (raise sysctl fs.inotify.max_user_instances): too many open files"},
		{"no watch left", 128, 3, 0, "tree reads not watched: inotify: no watch left (raise sysctl fs.inotify.max_user_watches): no space left on device"},
		{"more dirs than watched", 128, 1 << 20, treewatch.MaxDirs, "tree reads not watched: " + treewatch.ErrTooMany.Error()},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			repo := newRepo(t, fixture())
			for i := 0; i < c.dirs; i++ {
				if err := os.MkdirAll(filepath.Join(repo, "docs", fmt.Sprint(i)), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "unshare", "--user", "--map-root-user", "sh", "-c",
				fmt.Sprintf("echo %d >/proc/sys/user/max_inotify_instances && echo %d >/proc/sys/user/max_inotify_watches && exec cargo build",
					c.instances, c.watches))
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store, "RUSTC_WRAPPER="+groveBin, "CARGO_TERM_COLOR=never")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("build under the limits: %v\n%s", err, out)
			}
			if got := run(t, filepath.Join(repo, "target/debug/app")); !strings.HasPrefix(got, "names=AB data=data-1 ") {
				t.Errorf("binary prints %q", got)
			}
			evs, err := stats.Read(e.store)
			if err != nil {
				t.Fatal(err)
			}
			unwatched := 0
			for _, ev := range evs {
				switch {
				case ev.Kind == "miss":
					// Every member's compile is watched: none may be stored.
					t.Errorf("%s stored though its reads were not watched", ev.Crate)
				case ev.Reason == c.reason:
					unwatched++
				}
			}
			if unwatched == 0 {
				t.Errorf("no unit says %q; events: %+v", c.reason, evs)
			}
			checkStore(t, e.store)
		})
	}
}
