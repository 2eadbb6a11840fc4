package remote

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
)

// What a reader may believe of a remote, and why (the README's trust
// model says the same for users):
//
//   - A blob is named by its content digest; GetBlob hashes what it
//     downloads and keeps it only when it hashes to its name. Nobody can
//     pass off other bytes as a blob.
//   - A record (entry, manifest, lib, run, run manifest, key index) names blobs and says which compile
//     they stand for; its bytes cannot be checked against its name. So a
//     record must at least be well-formed (record's own checks), and when
//     a secret is shared (GROVE_REMOTE_SECRET) it must carry an HMAC of
//     its name and bytes under that secret. A reader with a secret refuses
//     records that are unsigned or signed with another key, so whoever can
//     write to the bucket but does not hold the secret cannot poison
//     readers. The name is under the MAC, so a signed record cannot be
//     replayed under another key.
//   - Without a secret, the remote is trusted as far as its write access
//     is: give write credentials only to CI, read-only ones (and
//     GROVE_REMOTE_READONLY=1) to laptops and agents.

// ErrUntrusted is wrapped by errors for an object that failed
// verification: a blob whose content does not hash to its name, a record
// that is malformed, unsigned (with a secret set) or wrongly signed. Such
// an object must never be used; the caller counts it and goes on as on a
// miss.
var ErrUntrusted = errors.New("remote object failed verification")

// MaxRecord bounds what GetRecord reads: a record is kilobytes, and a
// remote that streams without end must not exhaust memory.
const MaxRecord = 64 << 20

// sigPrefix starts a signed record: "grove-hmac-sha256 <64 hex>\n" and
// then the record's bytes. Records are JSON, so they never start so.
const sigPrefix = "grove-hmac-sha256 "

const sigLen = len(sigPrefix) + 2*sha256.Size + 1

func mac(secret []byte, name string, data []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("grove-remote-v1\x00"))
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}

// SealRecord returns the object to store for the record data at name:
// data itself without a secret, data signed with one.
func SealRecord(secret []byte, name string, data []byte) []byte {
	if len(secret) == 0 {
		return data
	}
	out := make([]byte, 0, sigLen+len(data))
	out = append(out, sigPrefix...)
	out = hex.AppendEncode(out, mac(secret, name, data))
	out = append(out, '\n')
	return append(out, data...)
}

// OpenRecord returns the record inside obj, read from the remote at name,
// once it is verified: signed under secret when a secret is set, and
// well-formed for its namespace. Errors wrap ErrUntrusted.
func OpenRecord(secret []byte, name string, obj []byte) ([]byte, error) {
	data := obj
	var sig []byte
	if bytes.HasPrefix(obj, []byte(sigPrefix)) {
		if len(obj) < sigLen || obj[sigLen-1] != '\n' {
			return nil, fmt.Errorf("record %s: %w: truncated signature", name, ErrUntrusted)
		}
		var err error
		if sig, err = hex.DecodeString(string(obj[len(sigPrefix) : sigLen-1])); err != nil {
			return nil, fmt.Errorf("record %s: %w: bad signature", name, ErrUntrusted)
		}
		data = obj[sigLen:]
	}
	if len(secret) > 0 {
		if sig == nil {
			return nil, fmt.Errorf("record %s: %w: unsigned, and %s is set", name, ErrUntrusted, EnvSecret)
		}
		if !hmac.Equal(sig, mac(secret, name, data)) {
			return nil, fmt.Errorf("record %s: %w: signature does not match (written with another %s?)", name, ErrUntrusted, EnvSecret)
		}
	}
	if err := checkRecord(name, data); err != nil {
		return nil, fmt.Errorf("record %s: %w: %v", name, ErrUntrusted, err)
	}
	return data, nil
}

// checkRecord refuses a record that cannot serve any build: only entries,
// lib records and manifests of units, build-script runs and their
// manifests, and the remote's key index travel, and each must decode as
// its namespace's type and pass that type's checks (record.Check, the one
// home of those checks).
func checkRecord(name string, data []byte) error {
	ns, _, _ := strings.Cut(name, "/")
	switch ns {
	case record.NSEntry, record.NSLib, record.NSManifest,
		record.NSRun, record.NSRunManifest, record.NSIndex:
		return record.Check(ns, data)
	}
	return fmt.Errorf("namespace %q holds no records", ns)
}

// PutRecord stores the record data at name ("entry/<key>", …), signed when
// secret is set.
func PutRecord(ctx context.Context, b Backend, secret []byte, name string, data []byte) error {
	obj := SealRecord(secret, name, data)
	return b.Put(ctx, name, bytes.NewReader(obj), int64(len(obj)))
}

// GetRecord fetches the record at name and returns it once verified
// (OpenRecord). A missing record wraps ErrNotFound, a refused one
// ErrUntrusted.
func GetRecord(ctx context.Context, b Backend, secret []byte, name string) ([]byte, error) {
	rc, err := b.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	obj, err := io.ReadAll(io.LimitReader(rc, MaxRecord+1))
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", name, b, err)
	}
	if len(obj) > MaxRecord {
		return nil, fmt.Errorf("record %s: %w: larger than %d bytes", name, ErrUntrusted, MaxRecord)
	}
	return OpenRecord(secret, name, obj)
}

// IndexName is the remote name of its key index (record.KeyIndex), which
// uploaders keep and readers prefetch.
const IndexName = record.NSIndex + "/" + record.IndexRecent

// BlobName is the remote name of the blob with this digest.
func BlobName(digest string) string { return "blob/" + digest }

// PutBlob uploads the file at path as the blob digest (the caller hashed
// it when it stored it locally).
func PutBlob(ctx context.Context, b Backend, digest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return b.Put(ctx, BlobName(digest), f, fi.Size())
}

// BlobReader reads a blob from a remote and hashes it as it goes: the one
// home of a remote blob's verification. Check, once everything was read,
// says whether the bytes are the blob their digest names.
type BlobReader struct {
	rc     io.ReadCloser
	r      io.Reader
	d      *filehash.Digester
	digest string
	from   string
}

// OpenBlob opens the blob digest on b for a verified read.
func OpenBlob(ctx context.Context, b Backend, digest string) (*BlobReader, error) {
	rc, err := b.Get(ctx, BlobName(digest))
	if err != nil {
		return nil, err
	}
	d := filehash.NewDigester()
	return &BlobReader{rc: rc, r: io.TeeReader(rc, d), d: d, digest: digest, from: b.String()}, nil
}

func (r *BlobReader) Read(p []byte) (int, error) { return r.r.Read(p) }

// Close closes the stream from the remote.
func (r *BlobReader) Close() error { return r.rc.Close() }

// Check reports, after the whole blob was read, whether it hashed to its
// digest: ErrUntrusted if not.
func (r *BlobReader) Check() error {
	if got := r.d.Digest(); got != r.digest {
		return fmt.Errorf("blob %s from %s: %w: content hashes to %s", r.digest, r.from, ErrUntrusted, got)
	}
	return nil
}

// GetBlob writes the blob digest from b to the new file dst, verified by
// its digest; on any error dst is removed.
func GetBlob(ctx context.Context, b Backend, digest, dst string) (n int64, err error) {
	br, err := OpenBlob(ctx, b, digest)
	if err != nil {
		return 0, err
	}
	defer br.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if n, err = io.Copy(f, br); err != nil {
		return n, fmt.Errorf("get blob %s from %s: %w", digest, b, err)
	}
	return n, br.Check()
}
