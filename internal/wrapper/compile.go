package wrapper

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/grove-rs/grove/internal/exitstatus"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/treewatch"
)

type compileResult struct {
	// code is rustc's status (package exitstatus): a signal is handed on.
	code           int
	stdout, stderr []byte
	start          time.Time
	dur            time.Duration
	cpuUs          int64 // rustc's CPU, user+sys (stats.ChildCPU)
	// before holds digests, taken just before rustc started, of files
	// under OUT_DIR that were written moments earlier (see save).
	before map[string]string
	// reads is what the watch of the tree saw (key/reads.go); readsErr
	// says why there is none.
	reads    *treewatch.Reads
	readsErr string
}

// watchTree starts watching the unit's tree for reads (key/reads.go's
// rule), before rustc starts. nil with no error: nothing to watch.
func watchTree(u *key.Unit) (*treewatch.Watch, error) {
	root := u.WatchRoot()
	if root == "" {
		return nil, nil
	}
	dirs, err := treewatch.Dirs(root, u.WatchSkip, u.WatchDirsCache())
	if err != nil {
		return nil, err
	}
	return treewatch.Start(dirs)
}

// preHashRecent digests the files under OUT_DIR written within
// filehash.PreHashWindow: a build script typically writes them milliseconds before the
// compile starts, too close to tell from mtimes alone whether they changed
// during the compile. The same digest after the compile proves they did
// not. Bounded, because OUT_DIR can hold a whole C build tree.
func preHashRecent(u *key.Unit) map[string]string {
	outDir := u.Env["OUT_DIR"]
	if outDir == "" {
		return nil
	}
	m := map[string]string{}
	cutoff := time.Now().Add(-filehash.PreHashWindow)
	n := 0
	filepath.WalkDir(outDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if n++; n > 2000 {
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() || info.ModTime().Before(cutoff) {
			return nil
		}
		if dg, _, err := u.Hasher.File(p); err == nil {
			m[p] = dg
		}
		return nil
	})
	return m
}

// lockContext bounds how long a miss waits for another build compiling the
// same unit. Past it, compiling again is cheaper than waiting forever on a
// stuck build.
func lockContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Minute)
}

// compile runs rustc on a miss. Existing outputs are removed first: rustc
// and the linker replace their outputs, but a tool that wrote in place
// through a hardlink would otherwise write into the store. stderr is
// streamed line by line as it arrives, because Cargo starts dependent units
// as soon as it reads the metadata artifact notification (pipelining); it is
// also kept, to be replayed on later hits.
func (w *wrapper) compile(u *key.Unit) (*compileResult, error) {
	names, err := u.Inv.OutputNames()
	if err != nil {
		return nil, err
	}
	for _, n := range append(names, u.Inv.DepInfoName(), key.ReadsFileName(u.Inv.DepInfoName()), key.EnvMarkName(u.Inv.DepInfoName())) {
		if err := os.Remove(filepath.Join(u.OutDir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	cmd := exec.Command(u.Inv.Rustc, u.Inv.Args...)
	cmd.Stdin = os.Stdin
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = io.MultiWriter(os.Stdout, &outBuf)
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	res := &compileResult{before: preHashRecent(u)}
	tw, err := watchTree(u)
	if err != nil {
		res.readsErr = err.Error()
	}
	defer tw.Close()
	res.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := bufio.NewReaderSize(errPipe, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				if tw != nil && key.MetadataWritten(line) {
					tw.Freeze() // before Cargo hears of it and starts dependents
				}
				os.Stderr.Write(line)
				errBuf.Write(line)
			}
			if err != nil {
				return
			}
		}
	}()
	wg.Wait()
	err = cmd.Wait()
	res.dur = time.Since(res.start)
	res.cpuUs = stats.ChildCPU(cmd.ProcessState)
	res.stdout, res.stderr = outBuf.Bytes(), errBuf.Bytes()
	if tw != nil {
		r, err := tw.Result()
		if err != nil {
			res.readsErr = err.Error()
		} else {
			res.reads = &r
		}
	}
	code, ok := exitstatus.FromWait(err)
	if !ok {
		return nil, err
	}
	res.code = code
	return res, nil
}
