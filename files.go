package ocjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/kyma-incubator/open-connectors-job/internal/transport"
)

// MaxSecretFileBytes bounds a file a secret is read from (64 KiB).
const MaxSecretFileBytes = 64 << 10

// ErrTooLarge is wrapped by the error of ReadFile for input over its limit.
var ErrTooLarge = errors.New("larger than the limit")

// ReadAll reads r whole, up to limit bytes: one byte more is an error
// wrapping ErrTooLarge, and nothing beyond it is read (the bounded read of
// the clients' answers, transport.ReadAll).
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := transport.ReadAll(r, -1, limit)
	if tooLarge := (*transport.TooLargeError)(nil); errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)
	}
	return data, err
}

// ReadFile reads the file at path, at most limit bytes of it, giving up
// when ctx is done; the error then wraps the context's error. A regular
// file larger than limit is refused by its size, without being read.
// Errors name path once ("cannot read PATH: ...", "reading PATH stopped:
// ...").
//
// open(2) of a FIFO blocks until a writer appears and cannot be
// interrupted, so the file is opened and read on a goroutine; once ctx is
// done, ReadFile returns and a read in progress is stopped through the
// file's read deadline (which works for FIFOs, pipes and sockets; a regular
// file never blocks). A goroutine still waiting in open ends when that open
// returns.
func ReadFile(ctx context.Context, path string, limit int64) ([]byte, error) {
	if ctx.Err() != nil {
		return nil, stopped(ctx, path)
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := readOpened(ctx, path, limit)
		done <- result{data, err}
	}()
	select {
	case <-ctx.Done():
		return nil, stopped(ctx, path)
	case r := <-done:
		if r.err != nil && ctx.Err() != nil {
			return nil, stopped(ctx, path)
		}
		return r.data, r.err
	}
}

func readOpened(ctx context.Context, path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() > limit {
		return nil, fileError(path, fmt.Errorf("%w of %d bytes", ErrTooLarge, limit))
	}
	data, err := ReadAll(f, limit)
	if err != nil {
		return nil, fileError(path, err)
	}
	return data, nil
}

// fileError says why path cannot be read, naming it once.
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read %s: %w", path, pe.Err)
	}
	return fmt.Errorf("cannot read %s: %w", path, err)
}

func stopped(ctx context.Context, path string) error {
	return fmt.Errorf("reading %s stopped: %w", path, ctx.Err())
}

// ReadSecretFile reads a secret from the file at path (at most
// MaxSecretFileBytes), as a mounted Kubernetes Secret provides it. One
// trailing newline ("\n" or "\r\n"), which a file written by echo carries
// into `kubectl create secret --from-file`, is removed, and trimmed says
// so; any other character is kept, for the checks of the client that sends
// the secret. The value is never part of an error.
func ReadSecretFile(ctx context.Context, path string) (value string, trimmed bool, err error) {
	data, err := ReadFile(ctx, path, MaxSecretFileBytes)
	if err != nil {
		return "", false, err
	}
	value, trimmed = TrimNewline(string(data))
	return value, trimmed, nil
}

// TrimNewline removes one trailing "\n" or "\r\n" from v and reports
// whether there was one.
func TrimNewline(v string) (string, bool) {
	if s, ok := strings.CutSuffix(v, "\n"); ok {
		return strings.TrimSuffix(s, "\r"), true
	}
	return v, false
}
