package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// TooLargeError reports an answer whose body is larger than the limit of
// its request. It is never retryable.
type TooLargeError struct {
	// Limit is the limit in bytes.
	Limit int64
}

// Error implements error.
func (e *TooLargeError) Error() string { return fmt.Sprintf("answer larger than %d bytes", e.Limit) }

// ReadAll reads r whole into one buffer of the announced length (-1 or 0
// when unknown), so that a large body is not copied again each time the
// buffer grows. It fails with a *TooLargeError once more than limit bytes
// arrive (limit < 0: no limit).
func ReadAll(r io.Reader, length, limit int64) ([]byte, error) {
	if limit >= 0 {
		if length > limit {
			return nil, &TooLargeError{Limit: limit}
		}
		r = io.LimitReader(r, limit+1)
	}
	// bytes.MinRead spare bytes let ReadFrom reach the end without growing.
	buf := bytes.NewBuffer(make([]byte, 0, max(length, 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	if limit >= 0 && int64(buf.Len()) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return buf.Bytes(), nil
}

// Attempt is the round tripper of one attempt of a request: the round trip
// and reading the whole body, within Timeout and Limit. It reads the body
// itself, inside the attempt, so that the attempt's timeout bounds a body
// that trickles in, a body that fails half way is an error of the round
// trip (which the client's retry decision sees), a success body announced
// larger than Limit is refused unread, and a body is read into one buffer
// of its announced size. Of an answer that is not a success (not 2xx) only
// the first endpoint.MaxErrorBodyBytes are read: an error quotes its start
// at most, and a read that fails leaves what arrived.
type Attempt struct {
	// Next sends the request.
	Next http.RoundTripper
	// Timeout bounds the attempt, body included; 0 leaves it to the
	// request's context.
	Timeout time.Duration
	// Limit bounds the body of a success; a larger one is a
	// *TooLargeError.
	Limit int64
	// Remote names the API in what Observe is told (remote.OpenConnectors,
	// remote.Compass).
	Remote string
	// Observe, when set, is told about the attempt once it ended: its
	// status (0 without a complete answer) and how long it took.
	Observe remote.RequestObserver
}

// RoundTrip implements http.RoundTripper.
func (t *Attempt) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Observe == nil {
		return t.roundTrip(req)
	}
	start := time.Now()
	resp, err := t.roundTrip(req)
	r := remote.Request{Remote: t.Remote, Method: req.Method, Duration: time.Since(start)}
	if err == nil {
		r.Status = resp.StatusCode
	}
	t.Observe(r)
	return resp, err
}

func (t *Attempt) roundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	ctx := parent
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(parent, t.Timeout)
		defer cancel()
		req = req.WithContext(ctx)
	}
	resp, err := t.Next.RoundTrip(req)
	if err != nil {
		return nil, t.failure(parent, ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		prefix, _ := io.ReadAll(io.LimitReader(resp.Body, endpoint.MaxErrorBodyBytes))
		resp.Body, resp.ContentLength = &Buffered{Reader: bytes.NewReader(prefix), data: prefix}, int64(len(prefix))
		return resp, nil
	}
	data, err := ReadAll(resp.Body, resp.ContentLength, t.Limit)
	if err != nil {
		return nil, t.failure(parent, ctx, err)
	}
	resp.Body, resp.ContentLength = &Buffered{Reader: bytes.NewReader(data), data: data}, int64(len(data))
	return resp, nil
}

// failure names an attempt that ran out of its own time as such.
func (t *Attempt) failure(parent, attempt context.Context, err error) error {
	if t.Timeout > 0 && parent.Err() == nil && attempt.Err() != nil {
		return fmt.Errorf("no complete response within %v: %w", t.Timeout, context.DeadlineExceeded)
	}
	return err
}

// Buffered is a body Attempt has read whole.
type Buffered struct {
	*bytes.Reader
	data []byte
}

// Close implements io.Closer.
func (*Buffered) Close() error { return nil }

// Body returns the bytes of a body Attempt read and closes it. A body an
// http.Client with a Timeout of its own wrapped is copied.
func Body(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	if b, ok := resp.Body.(*Buffered); ok {
		return b.data, nil
	}
	return io.ReadAll(resp.Body)
}
