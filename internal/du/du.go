// Package du measures the real disk usage of directory trees: allocated
// blocks (st_blocks*512), not apparent sizes, with every inode counted once
// per tree and once across all trees of one call. Cargo target dirs are
// full of hardlinks (deps/ artifacts uplifted into target/debug, and
// grove's cache links), so summing file sizes overstates them badly.
//
// The walk is concurrent with a bounded number of goroutines: target dirs
// hold hundreds of thousands of files, and stat latency, not CPU, is the
// cost.
package du

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// RootUsage is the usage of one tree.
type RootUsage struct {
	Path    string `json:"path"`
	Bytes   int64  `json:"bytes"`   // each inode in this tree once
	Files   int64  `json:"files"`   // inodes (files, dirs, links) counted
	Missing bool   `json:"missing"` // the root does not exist
	Errors  int64  `json:"errors"`  // entries that could not be read
}

// Result is the usage of all trees of one call.
type Result struct {
	Roots []RootUsage `json:"roots"`
	// Total counts each inode once across all roots.
	Total int64 `json:"total"`
	// Freeable is what deleting every root would free: Total without the
	// inodes that also have links outside the roots (a target dir's files
	// hardlinked from grove's store, or from another target dir), whose
	// blocks stay allocated. Exact when no root lies inside another.
	Freeable int64 `json:"freeable"`
}

type fileID struct{ dev, ino uint64 }

// linkCount is how many of an inode's links the walk met.
type linkCount struct {
	seen, nlink uint64
	size        int64
}

// counter holds the dedup state of one call.
type counter struct {
	mu      sync.Mutex
	seenAll map[fileID]struct{}   // for Total
	links   map[fileID]*linkCount // multi-link files: links seen, for Freeable
	seenIn  []map[fileID]struct{} // per root
	total   atomic.Int64
	roots   []RootUsage
	perRoot []struct{ bytes, files, errs atomic.Int64 }
	// nested is set when one root lies inside another: then even
	// single-link inodes must be deduplicated for Total.
	nested bool
	sem    chan struct{}
	wg     sync.WaitGroup
}

// Options tune a call; the zero value is fine.
type Options struct {
	// Workers bounds concurrent directory reads (default 4×GOMAXPROCS, at
	// least 8: the work is I/O latency).
	Workers int
}

// Usage measures roots. Duplicate roots (after cleaning and resolving
// symlinks) are measured once and reported for each spelling. A root that
// does not exist is reported as Missing with zero bytes.
func Usage(ctx context.Context, roots []string, opt Options) (Result, error) {
	w := opt.Workers
	if w <= 0 {
		w = max(4*runtime.GOMAXPROCS(0), 8)
	}
	c := &counter{
		seenAll: map[fileID]struct{}{},
		links:   map[fileID]*linkCount{},
		seenIn:  make([]map[fileID]struct{}, len(roots)),
		roots:   make([]RootUsage, len(roots)),
		perRoot: make([]struct{ bytes, files, errs atomic.Int64 }, len(roots)),
		sem:     make(chan struct{}, w),
	}
	canon := make([]string, len(roots))
	first := map[string]int{}
	for i, r := range roots {
		c.roots[i].Path = r
		c.seenIn[i] = map[fileID]struct{}{}
		p, err := filepath.Abs(r)
		if err != nil {
			return Result{}, fmt.Errorf("resolve %s: %w", r, err)
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		canon[i] = p
	}
	for i, p := range canon {
		for j, q := range canon {
			if i != j && p != q && strings.HasPrefix(p, q+string(filepath.Separator)) {
				c.nested = true
			}
		}
	}
	for i, p := range canon {
		if _, dup := first[p]; dup {
			continue
		}
		first[p] = i
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				c.roots[i].Missing = true
				continue
			}
			return Result{}, fmt.Errorf("stat %s: %w", p, err)
		}
		c.account(i, &st)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			c.wg.Add(1)
			go c.walk(ctx, i, p)
		}
	}
	c.wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res := Result{Roots: c.roots, Total: c.total.Load()}
	res.Freeable = res.Total
	for _, l := range c.links {
		if l.seen < l.nlink {
			res.Freeable -= l.size
		}
	}
	for i := range res.Roots {
		if j := first[canon[i]]; j != i {
			res.Roots[i] = res.Roots[j]
			res.Roots[i].Path = roots[i]
			continue
		}
		res.Roots[i].Bytes = c.perRoot[i].bytes.Load()
		res.Roots[i].Files = c.perRoot[i].files.Load()
		res.Roots[i].Errors = c.perRoot[i].errs.Load()
	}
	return res, nil
}

// account adds one inode to root i and to the total, each once.
func (c *counter) account(i int, st *unix.Stat_t) {
	id := fileID{uint64(st.Dev), st.Ino}
	size := st.Blocks * 512
	shared := st.Nlink > 1 && st.Mode&unix.S_IFMT != unix.S_IFDIR
	if !shared && !c.nested {
		c.perRoot[i].bytes.Add(size)
		c.perRoot[i].files.Add(1)
		c.total.Add(size)
		return
	}
	c.mu.Lock()
	_, inRoot := c.seenIn[i][id]
	if !inRoot && shared {
		c.seenIn[i][id] = struct{}{}
	}
	_, inAll := c.seenAll[id]
	if !inAll {
		c.seenAll[id] = struct{}{}
	}
	if shared {
		l := c.links[id]
		if l == nil {
			l = &linkCount{nlink: uint64(st.Nlink), size: size}
			c.links[id] = l
		}
		l.seen++
	}
	c.mu.Unlock()
	if !inRoot {
		c.perRoot[i].bytes.Add(size)
		c.perRoot[i].files.Add(1)
	}
	if !inAll {
		c.total.Add(size)
	}
}

// walk reads dir and stats its entries relative to the open directory
// (fstatat), recursing into subdirectories on a new goroutine when a slot
// is free and inline otherwise, so concurrency stays bounded without a
// queue that could deadlock.
func (c *counter) walk(ctx context.Context, i int, dir string) {
	defer c.wg.Done()
	if ctx.Err() != nil {
		return
	}
	f, err := os.Open(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.perRoot[i].errs.Add(1)
		}
		return
	}
	var subdirs []string
	for {
		ents, err := f.ReadDir(1024)
		for _, e := range ents {
			var st unix.Stat_t
			if err := unix.Fstatat(int(f.Fd()), e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				if !errors.Is(err, unix.ENOENT) {
					c.perRoot[i].errs.Add(1)
				}
				continue
			}
			c.account(i, &st)
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				subdirs = append(subdirs, filepath.Join(dir, e.Name()))
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.perRoot[i].errs.Add(1)
			}
			break
		}
	}
	f.Close()
	for _, sd := range subdirs {
		c.wg.Add(1)
		select {
		case c.sem <- struct{}{}:
			go func() {
				defer func() { <-c.sem }()
				c.walk(ctx, i, sd)
			}()
		default:
			c.walk(ctx, i, sd)
		}
	}
}
