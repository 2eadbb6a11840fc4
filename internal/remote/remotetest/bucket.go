package remotetest

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Client is an S3 client of the server with its root credentials, for
// what a test does behind the backend's back (corrupting an object).
func (m *MinIO) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(m.Addr, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (m *MinIO) makeBucket(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	c := m.Client(t)
	if ok, err := c.BucketExists(ctx, m.Bucket); err != nil {
		t.Fatalf("minio: %v", err)
	} else if ok {
		return
	}
	if err := c.MakeBucket(ctx, m.Bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("minio: make bucket: %v", err)
	}
}
