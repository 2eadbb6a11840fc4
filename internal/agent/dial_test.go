package agent

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// dialUnix talks to a listener as package net would, honours deadlines,
// and fails at once when nothing listens.
func TestDialUnix(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	if _, err := dialUnix(sock, time.Second); err == nil {
		t.Fatal("dial without a listener succeeded")
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(conn).ReadString('\n')
			if line == "echo\n" {
				conn.Write([]byte(line))
			}
			// else: never answer, so the client's deadline must end it
			time.Sleep(time.Second)
			conn.Close()
		}
	}()
	f, err := dialUnix(sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f.SetDeadline(time.Now().Add(5 * time.Second))
	f.Write([]byte("echo\n"))
	got, err := ReadLine(bufio.NewReader(f))
	f.Close()
	if err != nil || string(got) != "echo" {
		t.Fatalf("echo: %q %v", got, err)
	}
	f, err = dialUnix(sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetDeadline(time.Now().Add(50 * time.Millisecond))
	f.Write([]byte("hang\n"))
	if _, err := ReadLine(bufio.NewReader(f)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
}
