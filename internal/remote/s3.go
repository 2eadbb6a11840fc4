package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Backend keeps objects in an S3-compatible bucket (AWS S3, Cloudflare
// R2, GCS in interoperability mode, MinIO) under a prefix. A PUT becomes
// visible only when the server has the whole object, so an upload that
// dies half-way leaves nothing.
type s3Backend struct {
	c      *minio.Client
	bucket string
	prefix string // "" or "dir/"
	host   string
}

// maxSinglePut is S3's limit for one PUT. Below it a blob of known size
// goes up in one streamed request: no part buffers in memory (multipart
// would hold 16 MiB per part in flight) and one object write on the server.
const maxSinglePut = 5 << 30

func openS3(c Config) (*s3Backend, error) {
	bucket := c.URL.Host
	prefix := strings.Trim(c.URL.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	getenv := c.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	endpoint, secure := "s3.amazonaws.com", true
	if e := c.Endpoint; e != "" {
		switch {
		case strings.HasPrefix(e, "http://"):
			endpoint, secure = strings.TrimPrefix(e, "http://"), false
		case strings.HasPrefix(e, "https://"):
			endpoint = strings.TrimPrefix(e, "https://")
		default:
			endpoint = e
		}
		endpoint = strings.TrimSuffix(endpoint, "/")
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	cl, err := minio.New(endpoint, &minio.Options{
		Creds:  awsCredentials(getenv),
		Secure: secure,
		Region: region,
		// A cache that is down must cost a build little: the client's
		// default, 10 retries with backoff, waits out seconds per request.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("remote s3://%s at %s: %w", bucket, endpoint, err)
	}
	return &s3Backend{c: cl, bucket: bucket, prefix: prefix, host: endpoint}, nil
}

// awsCredentials finds credentials where AWS's own tools do: the
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
// variables, else the profile AWS_PROFILE (default "default") of the
// shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
// ~/.aws/credentials), else none (anonymous requests, for a public
// bucket). The instance metadata service is not asked: on a laptop it
// does not exist and the probe would cost every build a timeout.
func awsCredentials(getenv func(string) string) *credentials.Credentials {
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return credentials.NewStaticV4(id, secret, getenv("AWS_SESSION_TOKEN"))
	}
	file := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if file == "" {
		if home := getenv("HOME"); home != "" {
			file = filepath.Join(home, ".aws", "credentials")
		}
	}
	if file != "" {
		if _, err := os.Stat(file); err == nil {
			profile := getenv("AWS_PROFILE")
			if profile == "" {
				profile = "default"
			}
			return credentials.NewFileAWSCredentials(file, profile)
		}
	}
	return credentials.NewStaticV4("", "", "")
}

func (b *s3Backend) key(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return b.prefix + name, nil
}

func (b *s3Backend) String() string {
	return "s3://" + path.Join(b.bucket, b.prefix) + " at " + b.host
}

func (b *s3Backend) Close() error { return nil }

// ErrDenied is wrapped by errors for requests the server refused for want
// of valid credentials or permission: retrying will not help.
var ErrDenied = errors.New("access denied")

// s3Err turns a client error into one line with the cause first: absent
// objects wrap ErrNotFound, refused credentials ErrDenied.
func (b *s3Backend) s3Err(op, name string, err error) error {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey, "NotFound":
		return fmt.Errorf("%s %s in %s: %w", op, name, b, ErrNotFound)
	case minio.NoSuchBucket:
		return fmt.Errorf("%s %s in %s: no such bucket", op, name, b)
	case minio.InvalidAccessKeyID, "SignatureDoesNotMatch", minio.AccessDenied, "InvalidToken", "ExpiredToken":
		return fmt.Errorf("%s %s in %s: %w (%s: %s)", op, name, b, ErrDenied, resp.Code, resp.Message)
	}
	if resp.StatusCode == http.StatusNotFound && op != "put" {
		return fmt.Errorf("%s %s in %s: %w", op, name, b, ErrNotFound)
	}
	if resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%s %s in %s: %w", op, name, b, ErrDenied)
	}
	return fmt.Errorf("%s %s in %s: %w", op, name, b, err)
}

func (b *s3Backend) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	k, err := b.key(name)
	if err != nil {
		return nil, err
	}
	obj, err := b.c.GetObject(ctx, b.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, b.s3Err("get", name, err)
	}
	// Stat sends the GET (the object is lazy) and reads its headers: an
	// absent object is reported here, in the same round trip, not at the
	// first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, b.s3Err("get", name, err)
	}
	return s3Reader{obj, b, name}, nil
}

// s3Reader reports a body cut short (server gone mid-download) with the
// object's name; the Object itself reports it as io.ErrUnexpectedEOF.
type s3Reader struct {
	*minio.Object
	b    *s3Backend
	name string
}

func (r s3Reader) Read(p []byte) (int, error) {
	n, err := r.Object.Read(p)
	if err != nil && err != io.EOF {
		err = r.b.s3Err("get", r.name, err)
	}
	return n, err
}

func (b *s3Backend) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	k, err := b.key(name)
	if err != nil {
		return err
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	if size >= 0 && size < maxSinglePut {
		opts.DisableMultipart = true
	}
	if _, err := b.c.PutObject(ctx, b.bucket, k, r, size, opts); err != nil {
		return b.s3Err("put", name, err)
	}
	return nil
}

func (b *s3Backend) Has(ctx context.Context, name string) (bool, error) {
	k, err := b.key(name)
	if err != nil {
		return false, err
	}
	_, err = b.c.StatObject(ctx, b.bucket, k, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	err = b.s3Err("has", name, err)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}
