package bench

import (
	"bytes"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/grove-rs/grove/internal/remote/remotetest"
)

// The bench's S3 server is a real MinIO: an object put through the proxy
// comes back whole, both directions are counted (at least the payload),
// and stop leaves no process behind.
func TestS3ServerCountsBytesBothWays(t *testing.T) {
	ctx := context.Background()
	srv, err := startS3(ctx, remotetest.MinIOBin(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pid := srv.cmd.Process.Pid
	defer srv.stop()
	env := srv.credentials()
	cl, err := minio.New(strings.TrimPrefix(srv.endpoint(), "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""), Region: env["AWS_REGION"],
	})
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("grove"), 200_000) // 1 MB
	if _, err := cl.PutObject(ctx, srv.bucket, "p/obj", bytes.NewReader(payload), int64(len(payload)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	up, down := srv.moved()
	if up < int64(len(payload)) || down >= int64(len(payload)) {
		t.Fatalf("after a 1 MB put: up %d, down %d bytes", up, down)
	}
	obj, err := cl.GetObject(ctx, srv.bucket, "p/obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	up2, down2 := srv.moved()
	if down2-down < int64(len(payload)) || up2-up >= int64(len(payload)) {
		t.Fatalf("after a 1 MB get: up +%d, down +%d bytes", up2-up, down2-down)
	}
	srv.stop()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("minio (pid %d) still runs after stop", pid)
	}
}
