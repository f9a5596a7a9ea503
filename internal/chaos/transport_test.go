package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fault is what the chaos transport does to one request instead of passing
// it through untouched.
type fault int

const (
	faultNone fault = iota
	// faultReset fails the request with a connection reset before it
	// reaches the server.
	faultReset
	// faultLost sends the request and drops the answer: the server did the
	// work (a mutation is committed) but the client sees a reset.
	faultLost
	// faultTruncate cuts the answer's body in half and ends it with an
	// unexpected EOF.
	faultTruncate
	// faultGateway answers 503 or 429 with a Retry-After header, as a
	// gateway in front of the server would, without passing the request on.
	faultGateway
	// faultLatency delays the request by a few milliseconds.
	faultLatency
	numFaults
)

var faultNames = [numFaults]string{"none", "reset", "lost answer", "truncated body", "gateway 503/429", "latency"}

func (f fault) String() string { return faultNames[f] }

// chaosTransport is an http.RoundTripper in front of one fake. It injects
// transport faults at a rate chosen per run and, on the Director side,
// counts the mutations that pass and cancels the run's context at a chosen
// one.
//
// Whether a request gets a fault is decided from the run's seed, the
// request's content (method, URL and a hash of the body) and how often the
// same request was seen in this run, never from the order in which
// concurrent requests arrive: a seed replays the same faults as long as the
// requests are the same.
type chaosTransport struct {
	base http.RoundTripper
	// director marks the transport in front of the Director, whose
	// mutations are counted.
	director bool
	// forbidden are ids no mutation may name (those of foreign
	// applications and their parts).
	forbidden []string

	mu         sync.Mutex
	seed       uint64
	rate       float64
	slowBudget int // how many Retry-After: 1 answers may still be sent
	seen       map[string]int
	fired      [numFaults]int

	mutations    int
	cancelAt     int // cancel at this mutation; 0: never
	cancelBefore bool
	cancel       context.CancelFunc
	cancelled    bool
	touched      int // mutations that named a forbidden id, ever
}

func newChaosTransport(base http.RoundTripper, director bool) *chaosTransport {
	return &chaosTransport{base: base, director: director, seen: map[string]int{}}
}

// arm prepares the transport for one run.
func (t *chaosTransport) arm(seed uint64, rate float64, slowBudget int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seed, t.rate, t.slowBudget = seed, rate, slowBudget
	clear(t.seen)
	t.fired = [numFaults]int{}
	t.mutations, t.cancelAt, t.cancelBefore, t.cancel, t.cancelled = 0, 0, false, nil, false
}

// cancelOn makes the transport call cancel when mutation n (1-based) is
// about to be sent (before) or once its answer arrived (!before).
func (t *chaosTransport) cancelOn(n int, before bool, cancel context.CancelFunc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cancelAt, t.cancelBefore, t.cancel = n, before, cancel
}

// disarm turns faults and cancellation off.
func (t *chaosTransport) disarm() { t.arm(0, 0, 0) }

// report returns the faults fired, the mutations seen and whether the
// cancellation fired since the last arm.
func (t *chaosTransport) report() (fired [numFaults]int, mutations int, cancelled bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fired, t.mutations, t.cancelled
}

// touchedForeign returns how many mutations named a forbidden id so far.
func (t *chaosTransport) touchedForeign() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.touched
}

// graphQLBody is the part of a GraphQL request the transport reads.
type graphQLBody struct {
	Query string `json:"query"`
}

// RoundTrip implements http.RoundTripper.
func (t *chaosTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	mutation := false
	if t.director && len(body) > 0 {
		var g graphQLBody
		if json.Unmarshal(body, &g) == nil {
			mutation = strings.HasPrefix(strings.TrimSpace(g.Query), "mutation")
		}
	}

	if mutation {
		for _, id := range t.forbidden {
			if bytes.Contains(body, []byte(id)) {
				t.mu.Lock()
				t.touched++
				t.mu.Unlock()
				break
			}
		}
	}
	f, slow, cancelNow, cancelAfter := t.decide(req, body, mutation)
	if cancelNow != nil {
		cancelNow()
	}
	resp, err := t.inject(req, f, slow)
	if cancelAfter != nil {
		cancelAfter()
	}
	return resp, err
}

// random matches what differs from one replay to the next in a request
// body: the ids the fake Director makes up, the fakes' loopback ports and
// the field hashes of the state label (the target URL's holds the port).
// It is left out of a request's key so that a seed replays the same faults.
var random = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|127\.0\.0\.1:[0-9]+|\b[0-9a-f]{24}\b`)

// decide picks the fault for one request and handles the cancellation
// point.
func (t *chaosTransport) decide(req *http.Request, body []byte, mutation bool) (f fault, slow bool, cancelNow, cancelAfter context.CancelFunc) {
	sum := sha256.Sum256(random.ReplaceAll(body, nil))
	key := req.Method + " " + req.URL.Path + "?" + req.URL.RawQuery + " " + fmt.Sprintf("%x", sum[:8])

	t.mu.Lock()
	defer t.mu.Unlock()
	if mutation {
		t.mutations++
		if t.cancelAt > 0 && t.mutations == t.cancelAt && t.cancel != nil {
			t.cancelled = true
			if t.cancelBefore {
				cancelNow = t.cancel
			} else {
				cancelAfter = t.cancel
			}
		}
	}
	t.seen[key]++
	if t.rate <= 0 {
		return faultNone, false, cancelNow, cancelAfter
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%d|%s|%d", t.seed, key, t.seen[key])))
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
	if rng.Float64() >= t.rate {
		return faultNone, false, cancelNow, cancelAfter
	}
	f = fault(1 + rng.IntN(int(numFaults)-1))
	if f == faultLost && req.Method == http.MethodGet {
		f = faultTruncate // a lost GET answer is a truncated one
	}
	if f == faultGateway && t.slowBudget > 0 && rng.IntN(4) == 0 {
		t.slowBudget--
		slow = true
	}
	t.fired[f]++
	return f, slow, cancelNow, cancelAfter
}

func reset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// inject carries out fault f on req.
func (t *chaosTransport) inject(req *http.Request, f fault, slow bool) (*http.Response, error) {
	switch f {
	case faultReset:
		return nil, reset()
	case faultGateway:
		status, retryAfter := http.StatusServiceUnavailable, "0"
		if len(req.URL.Path)%2 == 0 {
			status = http.StatusTooManyRequests
		}
		switch {
		case slow:
			retryAfter = "1"
		case req.Method == http.MethodPost:
			// An HTTP date in the past: no wait.
			retryAfter = time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
		}
		msg := "upstream unavailable"
		return &http.Response{
			Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Retry-After": {retryAfter}, "Content-Type": {"text/plain"}},
			Body:   io.NopCloser(strings.NewReader(msg)), ContentLength: int64(len(msg)), Request: req,
		}, nil
	case faultLatency:
		select {
		case <-time.After(2 * time.Millisecond):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	resp, err := t.drain(req)
	if err != nil {
		return nil, err
	}
	switch f {
	case faultLost:
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, reset()
	case faultTruncate:
		data, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data[:len(data)/2]), errReader{io.ErrUnexpectedEOF}))
	}
	return resp, nil
}

// drain sends req and waits for the answer's headers even when the
// request's context ends first (a cancelled run, a client timeout), and then
// gives the client the context's error: the server finished the request,
// but its answer is lost to the client. Without this a cancelled request
// could still change the fake after the run, while the test looks at it.
func (t *chaosTransport) drain(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	resp, err := t.base.RoundTrip(req.Clone(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, ctx.Err()
	}
	return resp, nil
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
