package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/grove-rs/grove/internal/atomicfile"
)

// fileBackend keeps objects as files under a directory, for a shared mount
// (NFS, a team disk) or a local directory. Objects appear by rename, so a
// reader sees a whole object or none, also on NFS, where rename within a
// directory is atomic.
type fileBackend struct {
	dir string
}

func openFile(dir string) (*fileBackend, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("remote file://%s: not an absolute directory", dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("remote file://%s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("remote file://%s: not a directory", dir)
	}
	return &fileBackend{dir: dir}, nil
}

func (b *fileBackend) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(b.dir, filepath.FromSlash(name)), nil
}

func (b *fileBackend) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := b.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s from %s: %w", name, b, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", name, b, err)
	}
	return f, nil
}

func (b *fileBackend) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	p, err := b.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("put %s to %s: %w", name, b, err)
	}
	err = atomicfile.WriteWith(p, 0o644, func(w io.Writer) error {
		n, err := io.Copy(w, ctxReader{ctx, r})
		if err == nil && size >= 0 && n != size {
			err = fmt.Errorf("got %d bytes, want %d", n, size)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("put %s to %s: %w", name, b, err)
	}
	return nil
}

func (b *fileBackend) Has(ctx context.Context, name string) (bool, error) {
	p, err := b.path(name)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("has %s in %s: %w", name, b, err)
	}
	return true, nil
}

func (b *fileBackend) String() string { return "file://" + b.dir }
func (b *fileBackend) Close() error   { return nil }

// ctxReader stops a copy when its context ends, so a cancelled Put leaves
// nothing behind even when the source would go on.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
