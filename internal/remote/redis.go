package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisBackend keeps objects as Redis strings under "grove/<name>".
//
// Redis holds a string in memory and moves it in one reply, so objects go
// in chunks: a Get reads ranges of at most chunk bytes (GETRANGE), a Put
// of more than a chunk appends them to a temporary key that is renamed
// over the name once complete. The temporary key expires (tmpTTL), so an
// upload that dies half-way leaves nothing readable and, soon, nothing at
// all. Values are limited to 512 MB by the server (proto-max-bulk-len).
//
// Redis is a cache, not a store: give it a maxmemory with
// maxmemory-policy allkeys-lru, and it evicts what was not read for
// longest. Objects carry no TTL of their own.
type redisBackend struct {
	c    *redis.Client
	desc string
}

const (
	redisPrefix = "grove/"
	chunk       = 4 << 20
	tmpTTL      = time.Hour
	maxRedis    = 512 << 20
)

func openRedis(c Config) (*redisBackend, error) {
	u := *c.URL
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", u.Redacted(), err)
	}
	// A request's context bounds it (go-redis otherwise waits out its
	// own 3 s read timeout): the caller's deadline is the remote's budget.
	opts.ContextTimeoutEnabled = true
	// A cache that is down must cost a build little: one retry, no more.
	opts.MaxRetries = 1
	u.User, u.RawQuery = nil, "" // never show a password in logs
	return &redisBackend{c: redis.NewClient(opts), desc: u.String()}, nil
}

func (b *redisBackend) String() string { return b.desc }
func (b *redisBackend) Close() error   { return b.c.Close() }

func (b *redisBackend) key(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return redisPrefix + name, nil
}

func (b *redisBackend) err(op, name string, err error) error {
	if err != nil && isRedisAuth(err) {
		return fmt.Errorf("%s %s in %s: %w (%v)", op, name, b, ErrDenied, err)
	}
	return fmt.Errorf("%s %s in %s: %w", op, name, b, err)
}

func isRedisAuth(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	for _, p := range []string{"NOAUTH", "WRONGPASS", "NOPERM", "ERR AUTH", "ERR invalid password"} {
		if len(msg) >= len(p) && msg[:len(p)] == p {
			return true
		}
	}
	return false
}

func (b *redisBackend) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	k, err := b.key(name)
	if err != nil {
		return nil, err
	}
	// One round trip for the common small object: whether it exists and
	// its first chunk, atomically.
	var exists *redis.IntCmd
	var first *redis.StringCmd
	_, err = b.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, k)
		first = p.GetRange(ctx, k, 0, chunk-1)
		return nil
	})
	if err != nil {
		return nil, b.err("get", name, err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("get %s in %s: %w", name, b, ErrNotFound)
	}
	return &redisReader{ctx: ctx, b: b, key: k, name: name, buf: []byte(first.Val()), more: len(first.Val()) == chunk}, nil
}

// redisReader streams an object by ranges. Objects are written whole under
// their name (by SET or RENAME), so the ranges of one object belong to one
// version unless it is replaced meanwhile; a blob is replaced only by the
// same bytes (its name is its digest), and a mixed record fails its
// verification.
type redisReader struct {
	ctx  context.Context
	b    *redisBackend
	key  string
	name string
	buf  []byte
	off  int64 // offset of the end of what was fetched
	more bool
}

func (r *redisReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if !r.more {
			return 0, io.EOF
		}
		r.off += chunk
		v, err := r.b.c.GetRange(r.ctx, r.key, r.off, r.off+chunk-1).Result()
		if err != nil {
			return 0, r.b.err("get", r.name, err)
		}
		if v == "" {
			// The object vanished (evicted) between ranges, or ended on a
			// chunk boundary: tell them apart.
			n, err := r.b.c.StrLen(r.ctx, r.key).Result()
			if err != nil {
				return 0, r.b.err("get", r.name, err)
			}
			if n != r.off {
				return 0, fmt.Errorf("get %s in %s: object changed during the read: %w", r.name, r.b, io.ErrUnexpectedEOF)
			}
			r.more = false
			return 0, io.EOF
		}
		r.buf, r.more = []byte(v), len(v) == chunk
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *redisReader) Close() error { return nil }

func (b *redisBackend) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	k, err := b.key(name)
	if err != nil {
		return err
	}
	if size > maxRedis {
		return fmt.Errorf("put %s in %s: %d bytes, more than Redis holds in one value (%d)", name, b, size, maxRedis)
	}
	buf := make([]byte, chunk)
	n, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		// The whole object fits a chunk: one SET is atomic.
		if size >= 0 && int64(n) != size {
			return fmt.Errorf("put %s in %s: got %d bytes, want %d", name, b, n, size)
		}
		if err := b.c.Set(ctx, k, buf[:n], 0).Err(); err != nil {
			return b.err("put", name, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("put %s in %s: %w", name, b, err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := redisPrefix + "tmp/" + name + "/" + hex.EncodeToString(rnd[:])
	defer func() {
		if err != nil {
			b.c.Del(context.WithoutCancel(ctx), tmp)
		}
	}()
	if err = b.c.Set(ctx, tmp, buf, tmpTTL).Err(); err != nil {
		return b.err("put", name, err)
	}
	total := int64(n)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			total += int64(n)
			if total > maxRedis {
				err = fmt.Errorf("put %s in %s: more than Redis holds in one value (%d bytes)", name, b, maxRedis)
				return err
			}
			var have int64
			if have, err = b.c.Append(ctx, tmp, string(buf[:n])).Result(); err != nil {
				return b.err("put", name, err)
			}
			// APPEND is not idempotent: a retry after a lost reply, or the
			// temp key expiring, shows here as a wrong length.
			if have != total {
				err = fmt.Errorf("put %s in %s: temporary value has %d bytes, want %d", name, b, have, total)
				return err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			err = fmt.Errorf("put %s in %s: %w", name, b, rerr)
			return err
		}
	}
	if size >= 0 && total != size {
		err = fmt.Errorf("put %s in %s: got %d bytes, want %d", name, b, total, size)
		return err
	}
	// RENAME keeps the temporary key's TTL: PERSIST in the same
	// transaction, so the object is never visible with a deadline.
	_, err = b.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Rename(ctx, tmp, k)
		p.Persist(ctx, k)
		return nil
	})
	if err != nil {
		return b.err("put", name, err)
	}
	return nil
}

func (b *redisBackend) Has(ctx context.Context, name string) (bool, error) {
	k, err := b.key(name)
	if err != nil {
		return false, err
	}
	n, err := b.c.Exists(ctx, k).Result()
	if err != nil {
		return false, b.err("has", name, err)
	}
	return n > 0, nil
}
