package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestOutputWriteErrorsFail: a command whose output cannot be written
// fails, so "waymark keys new > /dev/full" never looks like saved keys.
func TestOutputWriteErrorsFail(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	getenv := func(string) string { return "" }
	for _, args := range [][]string{
		{"keys", "new"},
		{"keys", "vapid"},
		{"version"},
		{"config", "check", "--redis-url", ""},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			err := run(context.Background(), append([]string{"waymark"}, args...), getenv, full, io.Discard)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("run to /dev/full = %v, want an error wrapping ENOSPC", err)
			}
		})
	}
}

// TestOutputStopsAfterFirstFailure: after one failed write nothing more is
// written, so a later line never lands without the ones before it.
func TestOutputStopsAfterFirstFailure(t *testing.T) {
	w := &failOnce{}
	cw := &checkedWriter{w: w}
	cw.Write([]byte("first\n"))
	if _, err := cw.Write([]byte("second\n")); err == nil || w.writes != 1 {
		t.Fatalf("second write: err %v after %d writes, want the first error and 1 write", err, w.writes)
	}
	if _, err := (&checkedWriter{w: shortWriter{}}).Write([]byte("abc")); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("short write = %v, want io.ErrShortWrite", err)
	}
}

type failOnce struct{ writes int }

func (f *failOnce) Write(b []byte) (int, error) {
	f.writes++
	return 0, errors.New("disk full")
}

type shortWriter struct{}

func (shortWriter) Write(b []byte) (int, error) { return len(b) - 1, nil }
