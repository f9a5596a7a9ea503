package openconnectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// recorder is a Backoff that never waits and records the Retry-After hints.
type recorder struct {
	mu    sync.Mutex
	hints []time.Duration
}

func (r *recorder) backoff(_ int, retryAfter time.Duration) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hints = append(r.hints, retryAfter)
	return 0
}

func (r *recorder) calls() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.hints...)
}

// logBuffer collects every log record as text.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type fixture struct {
	srv  *octest.Server
	c    *Client
	rec  *recorder
	logs *logBuffer
}

// newFixture starts octest with opts and a client for it; mutate adjusts the
// client's config.
func newFixture(t *testing.T, mutate func(*Config), opts ...octest.Option) fixture {
	t.Helper()
	srv := octest.NewServer(opts...)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	logs := &logBuffer{}
	cfg := Config{
		Host:               srv.URL,
		UserSecret:         redact.Secret(srv.UserSecret),
		OrganizationSecret: redact.Secret(srv.OrganizationSecret),
		Backoff:            rec.backoff,
		Logger:             slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := NewClient(cfg)
	require.NoError(t, err)
	return fixture{srv: srv, c: c, rec: rec, logs: logs}
}

// instances makes n instances with ids 1..n.
func instances(n int, tags ...string) []octest.Instance {
	out := make([]octest.Instance, n)
	for i := range out {
		out[i] = octest.Instance{
			ID: int64(i + 1), Name: fmt.Sprintf("instance %d", i+1), Token: fmt.Sprintf("tok/%d+x=", i+1),
			Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce"}, Tags: tags,
		}
	}
	return out
}

func ids(list []Instance) []int64 {
	out := make([]int64, len(list))
	for i, in := range list {
		out[i] = in.ID
	}
	return out
}

func TestInstancesPaging(t *testing.T) {
	tests := []struct {
		name      string
		count     int
		pageSize  int
		wantPages int
	}{
		{"none", 0, 0, 1},
		{"one", 1, 0, 1},
		{"exactly the default page size", 200, 0, 1},
		{"default page size plus one", 201, 0, 2},
		{"exactly a small page", 5, 5, 1},
		{"many small pages", 23, 5, 5},
		{"many full pages", 1000, 0, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.PageSize = tt.pageSize }, octest.WithInstances(instances(tt.count)...))
			got, err := f.c.Instances(t.Context())
			require.NoError(t, err)
			require.Len(t, got, tt.count)
			for i, in := range got {
				assert.Equal(t, int64(i+1), in.ID)
			}
			assert.Equal(t, tt.wantPages, f.srv.Count(octest.EndpointInstances))
			want := tt.pageSize
			if want == 0 {
				want = DefaultPageSize
			}
			assert.Equal(t, fmt.Sprint(want), f.srv.LastQuery(octest.EndpointInstances).Get("pageSize"))
		})
	}
}

func TestInstancesDecoding(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Put(octest.Instance{
		ID: 7, Name: "Grüße aus Köln 日本", Token: "Ab3+xYz/0k9=", Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce"},
		Tags: []string{"sync", "prod"}, Disabled: true, Invalid: true, UpdatedDate: 1700000000123,
	})
	f.srv.PutRaw(8, nil, []byte(`{"id":8,"name":"old","token":"t","element":{"id":"5","key":"k","name":"K"},
		"tags":[{"id":1,"name":"legacy"},"plain",{"id":"x","name":""}],"updatedDate":"2020-01-15T10:04:05Z","extra":{"x":[1]}}`))
	f.srv.PutRaw(9, nil, []byte(`{"id":"9","name":null,"token":null,"element":null,"tags":null,"disabled":null,"valid":null,"updatedDate":null}`))
	f.srv.PutRaw(10, nil, []byte(`{"id":10,"element":{"id":null,"key":null,"name":null}}`))

	got, err := f.c.Instances(t.Context())
	require.NoError(t, err)
	require.Equal(t, []int64{7, 8, 9, 10}, ids(got))

	assert.Equal(t, Instance{
		ID: 7, Name: "Grüße aus Köln 日本", Token: "Ab3+xYz/0k9=", Element: Element{ID: 23, Key: "sfdc", Name: "Salesforce"},
		Tags: []string{"sync", "prod"}, Disabled: true, Valid: false, UpdatedDate: "1700000000123",
	}, got[0])
	assert.Equal(t, Instance{
		ID: 8, Name: "old", Token: "t", Element: Element{ID: 5, Key: "k", Name: "K"},
		Tags: []string{"legacy", "plain", ""}, Valid: true, UpdatedDate: "2020-01-15T10:04:05Z",
	}, got[1])
	assert.Equal(t, Instance{ID: 9, Valid: true}, got[2], "null is an absent optional field")
	assert.Equal(t, Instance{ID: 10, Valid: true}, got[3], "an instance without the valid field is taken as valid")
	assert.Equal(t, "name is missing or empty", got[2].Unusable())
}

func TestInstancesTags(t *testing.T) {
	seed := []octest.Instance{
		{ID: 1, Name: "a", Token: "t", Element: octest.Element{Key: "k"}, Tags: []string{"a&b=c #1"}},
		{ID: 2, Name: "b", Token: "t", Element: octest.Element{Key: "k"}, Tags: []string{"two"}},
		{ID: 3, Name: "c", Token: "t", Element: octest.Element{Key: "k"}, Tags: []string{"two", "a&b=c #1"}},
		{ID: 4, Name: "d", Token: "t", Element: octest.Element{Key: "k"}},
	}
	tests := []struct {
		name string
		tags []string
		want []int64
	}{
		{"no tags lists everything", nil, []int64{1, 2, 3, 4}},
		{"a tag with reserved characters", []string{"a&b=c #1"}, []int64{1, 3}},
		{"several tags match any", []string{"two", "a&b=c #1"}, []int64{1, 2, 3}},
		{"unknown tag", []string{"none"}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Tags = tt.tags }, octest.WithInstances(seed...))
			got, err := f.c.Instances(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tt.want, ids(got))
			if len(tt.tags) > 0 {
				assert.Equal(t, tt.tags, f.srv.LastQuery(octest.EndpointInstances)["tags[]"])
			}
		})
	}
}

func TestInstancesFilterOnClient(t *testing.T) {
	// The server ignores tags here (a raw body replaces its answer); the client
	// still keeps only instances with a configured tag.
	f := newFixture(t, func(c *Config) { c.Tags = []string{"keep"} })
	f.srv.AddFault(octest.EndpointInstances, octest.Fault{Body: []byte(`[
		{"id":1,"name":"a","token":"t","element":{"key":"k"},"tags":["keep"]},
		{"id":2,"name":"b","token":"t","element":{"key":"k"},"tags":["other"]}]`)})
	got, err := f.c.Instances(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []int64{1}, ids(got))
}

func TestInstancesWithoutTagsAreTrusted(t *testing.T) {
	// The platform may leave tags out of its items (without hydrate); the
	// server selected them by the tags sent, so an item without a tags
	// array (absent or null) is listed. One whose tags it does send is
	// still filtered on the client.
	f := newFixture(t, func(c *Config) { c.Tags = []string{"sync"} })
	f.srv.PutRaw(1, []string{"sync"}, []byte(`{"id":1,"name":"a","token":"t1","element":{"key":"k"}}`))
	f.srv.PutRaw(2, []string{"sync"}, []byte(`{"id":2,"name":"b","token":"t2","element":{"key":"k"},"tags":null}`))
	f.srv.Put(octest.Instance{ID: 3, Name: "c", Token: "t3", Element: octest.Element{Key: "k"}, Tags: []string{"sync"}})
	// A server that selects by another rule than ANY still cannot add an
	// instance whose tags say it does not match.
	f.srv.PutRaw(4, []string{"sync"}, []byte(`{"id":4,"name":"d","token":"t4","element":{"key":"k"},"tags":["other"]}`))
	got, err := f.c.Instances(t.Context())
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2, 3}, ids(got))
	assert.Equal(t, []string{"sync"}, f.srv.LastQuery(octest.EndpointInstances)["tags[]"])
	assert.Nil(t, got[0].Tags, "no tags array: nil")
	assert.Nil(t, got[1].Tags, "tags null: nil")
	assert.Equal(t, []string{"sync"}, got[2].Tags)
	assert.Contains(t, f.logs.String(), "id=4", "the instance left out is logged")

	t.Run("an empty tags array does not match", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.Tags = []string{"sync"} })
		f.srv.PutRaw(5, []string{"sync"}, []byte(`{"id":5,"name":"e","token":"t5","element":{"key":"k"},"tags":[]}`))
		got, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("no tag configured lists items with and without tags", func(t *testing.T) {
		f := newFixture(t, nil)
		f.srv.PutRaw(1, nil, []byte(`{"id":1,"name":"a","token":"t1","element":{"key":"k"}}`))
		f.srv.PutRaw(2, nil, []byte(`{"id":2,"name":"b","token":"t2","element":{"key":"k"},"tags":[]}`))
		got, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 2}, ids(got))
	})
}

func TestRepeatedCursorIsAnError(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(10)...))
	f.srv.SetRepeatCursor(true)
	_, err := f.c.Instances(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repeated a page cursor")
	assert.Equal(t, 2, f.srv.Count(octest.EndpointInstances))
}

func TestErrorsAndRetries(t *testing.T) {
	tests := []struct {
		name      string
		fault     octest.Fault
		retries   int
		wantCalls int
		wantErr   []error
		notErr    []error
		wantHints []time.Duration
		recovers  bool
		// fatalOnList: ocsync.ErrFatal on the listing, an item error
		// (not fatal) on one instance's document.
		fatalOnList bool
	}{
		{name: "401 is fatal on the listing only, not retried", fault: octest.Fault{Status: 401}, wantCalls: 1,
			fatalOnList: true, notErr: []error{remote.ErrRetryable, remote.ErrNotFound}},
		{name: "403 is fatal on the listing only, not retried", fault: octest.Fault{Status: 403}, wantCalls: 1,
			fatalOnList: true, notErr: []error{remote.ErrRetryable, remote.ErrNotFound}},
		{name: "400 is neither", fault: octest.Fault{Status: 400}, wantCalls: 1,
			notErr: []error{ocsync.ErrFatal, remote.ErrRetryable}},
		{name: "404", fault: octest.Fault{Status: 404}, wantCalls: 1,
			wantErr: []error{remote.ErrNotFound}, notErr: []error{remote.ErrRetryable}},
		{name: "429 retried until the limit", fault: octest.Fault{Status: 429, RetryAfter: "3"}, retries: 2, wantCalls: 3,
			wantErr: []error{remote.ErrRetryable}, wantHints: []time.Duration{3 * time.Second, 3 * time.Second}},
		{name: "503 retried until the default limit", fault: octest.Fault{Status: 503}, wantCalls: 1 + remote.DefaultMaxRetries,
			wantErr: []error{remote.ErrRetryable}, wantHints: []time.Duration{0, 0, 0}},
		{name: "retries disabled", fault: octest.Fault{Status: 500}, retries: -1, wantCalls: 1,
			wantErr: []error{remote.ErrRetryable}},
		{name: "two 502 then success", fault: octest.Fault{Status: 502, Times: 2}, wantCalls: 3, recovers: true,
			wantHints: []time.Duration{0, 0}},
		{name: "429 once then success", fault: octest.Fault{Status: 429, RetryAfter: "1", Times: 1}, wantCalls: 2, recovers: true,
			wantHints: []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		for _, ep := range []octest.Endpoint{octest.EndpointInstances, octest.EndpointDocs} {
			t.Run(tt.name+"/"+string(ep), func(t *testing.T) {
				f := newFixture(t, func(c *Config) { c.MaxRetries = tt.retries }, octest.WithInstances(instances(3)...))
				f.srv.AddFault(ep, tt.fault)
				var err error
				if ep == octest.EndpointDocs {
					_, err = f.c.Docs(t.Context(), 2)
				} else {
					_, err = f.c.Instances(t.Context())
				}
				assert.Equal(t, tt.wantCalls, f.srv.Count(ep))
				assert.Equal(t, tt.wantHints, f.rec.calls())
				if tt.recovers {
					require.NoError(t, err)
					return
				}
				require.Error(t, err)
				for _, want := range tt.wantErr {
					assert.ErrorIs(t, err, want)
				}
				for _, not := range tt.notErr {
					assert.NotErrorIs(t, err, not)
				}
				switch {
				case tt.fatalOnList && ep == octest.EndpointInstances:
					assert.ErrorIs(t, err, ocsync.ErrFatal)
				case tt.fatalOnList:
					assert.NotErrorIs(t, err, ocsync.ErrFatal, "one instance's refusal never stops the run")
				}
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.fault.Status, apiErr.StatusCode)
				assert.Equal(t, http.MethodGet, apiErr.Method)
				assert.Equal(t, tt.wantCalls, apiErr.Attempts)
				assert.NotEmpty(t, apiErr.RequestID)
				assert.Equal(t, fmt.Sprintf("injected status %d", tt.fault.Status), apiErr.Message)
				assert.Contains(t, err.Error(), apiErr.RequestID)
				if ep == octest.EndpointDocs {
					assert.Equal(t, "/instances/2/docs", apiErr.Path)
					assert.Contains(t, err.Error(), "instance 2")
				} else {
					assert.Equal(t, "/instances", apiErr.Path)
				}
			})
		}
	}
}

func TestWrongSecretsAreFatal(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.UserSecret = "wrong-user-secret" }, octest.WithInstances(instances(1)...))
	_, err := f.c.Instances(t.Context())
	require.ErrorIs(t, err, ocsync.ErrFatal)
	assert.Equal(t, 1, f.srv.Requests())
	assert.NotContains(t, err.Error(), "wrong-user-secret")
	assert.NotContains(t, err.Error(), f.srv.OrganizationSecret)
}

func TestSecretsReachTheHeaderUnmodified(t *testing.T) {
	const user, org = "u+/=ser//==", "o+r/g=="
	f := newFixture(t, func(c *Config) { c.UserSecret, c.OrganizationSecret = user, org },
		octest.WithSecrets(user, org), octest.WithInstances(instances(2)...))
	got, err := f.c.Instances(t.Context())
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, redact.Secret("tok/1+x="), got[0].Token)
	_, err = f.c.Docs(t.Context(), 1)
	require.NoError(t, err)
	logs := f.logs.String()
	for _, secret := range []string{user, org, "tok/1+x="} {
		assert.NotContains(t, logs, secret)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", got, got, got), secret)
	}
}

func TestTimeoutsAndCancellation(t *testing.T) {
	t.Run("slow attempts time out and are retried", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.Timeout = 20 * time.Millisecond; c.MaxRetries = 1 },
			octest.WithInstances(instances(1)...))
		// Held until the attempt's own timeout ends it.
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Latency: time.Hour})
		_, err := f.c.Instances(t.Context())
		require.Error(t, err)
		assert.ErrorIs(t, err, remote.ErrRetryable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "GET /instances")
		assert.Equal(t, 2, f.srv.Count(octest.EndpointInstances))
	})
	t.Run("one slow attempt then success", func(t *testing.T) {
		// The first attempt is held until its timeout ends it; the second
		// has ample time on a busy machine.
		f := newFixture(t, func(c *Config) { c.SpecTimeout = 2 * time.Second },
			octest.WithInstances(instances(1)...))
		f.srv.AddFault(octest.EndpointDocs, octest.Fault{Latency: time.Hour, Times: 1})
		_, err := f.c.Docs(t.Context(), 1)
		require.NoError(t, err)
		assert.Equal(t, 2, f.srv.Count(octest.EndpointDocs))
	})
	t.Run("a cancelled context stops at once", func(t *testing.T) {
		f := newFixture(t, nil, octest.WithInstances(instances(1)...))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := f.c.Instances(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, remote.ErrRetryable)
		assert.Zero(t, f.srv.Requests())
	})
	t.Run("cancellation during a request is not retried", func(t *testing.T) {
		f := newFixture(t, nil, octest.WithInstances(instances(1)...))
		ctx, cancel := context.WithCancel(t.Context())
		f.srv.AddFault(octest.EndpointDocs, octest.Fault{Latency: time.Hour})
		go func() {
			for f.srv.Count(octest.EndpointDocs) == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := f.c.Docs(ctx, 1)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 1, f.srv.Count(octest.EndpointDocs))
	})
	t.Run("cancellation during backoff", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.Backoff = func(int, time.Duration) time.Duration { return time.Hour } },
			octest.WithInstances(instances(1)...))
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 503})
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			for !strings.Contains(f.logs.String(), "retrying") {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := f.c.Instances(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "503")
		assert.Equal(t, 1, f.srv.Count(octest.EndpointInstances))
	})
}

func TestListFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault octest.Fault
		want  string
	}{
		{"not JSON", octest.Fault{Body: []byte("oops")}, "body is not JSON, want a JSON array of instances"},
		{"an HTML page", octest.Fault{Body: []byte("<html>oops</html>")}, "200 OK: answered an HTML page"},
		{"an object", octest.Fault{Body: []byte(`{"id":1}`)}, "body is an object, want a JSON array"},
		{"null", octest.Fault{Body: []byte(`null`)}, "body is null, want a JSON array"},
		{"a string", octest.Fault{Body: []byte(`"[]"`)}, "body is a string, want a JSON array"},
		{"a number", octest.Fault{Body: []byte(`42`)}, "body is a number, want a JSON array"},
		{"empty", octest.Fault{Body: []byte(` `)}, "body is absent, want a JSON array"},
		{"truncated", octest.Fault{Body: []byte(`[{"id":1},`)}, "body is not a JSON array of instances: truncated JSON"},
		{"trailing garbage", octest.Fault{Body: []byte(`[] x`)}, "body is not a JSON array of instances: invalid JSON at byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.PageSize = 1 }, octest.WithInstances(instances(3)...))
			tt.fault.Times = 1
			f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 1}) // page 1 fine
			f.srv.AddFault(octest.EndpointInstances, tt.fault)               // page 2 broken
			got, err := f.c.Instances(t.Context())
			require.Error(t, err)
			assert.Nil(t, got, "a partial list is never returned")
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "page 2")
			assert.NotErrorIs(t, err, remote.ErrRetryable)
		})
	}
	t.Run("a failing later page fails the listing", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.PageSize = 1; c.MaxRetries = -1 }, octest.WithInstances(instances(3)...))
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 2})
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Status: 500})
		got, err := f.c.Instances(t.Context())
		require.ErrorIs(t, err, remote.ErrRetryable)
		assert.Nil(t, got)
		assert.Contains(t, err.Error(), "page 3")
	})
}

func TestDocs(t *testing.T) {
	const limit = 4096
	valid := octest.SwaggerDocument("sfdc", 2000)
	minimal := []byte(`{"swagger":"2.0","info":{},"paths":{}}`)
	exact := append(minimal, bytes.Repeat([]byte(" "), limit-len(minimal))...)
	tests := []struct {
		name    string
		spec    []byte
		wantErr string
	}{
		{"swagger 2.0", valid, ""},
		{"exactly the limit", exact, ""},
		{"openapi 3", []byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}`), ""},
		{"openapi 3.1 with webhooks only", []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"webhooks":{}}`), ""},
		{"oversized", octest.SwaggerDocument("x", limit+1), "larger than the limit of 4096 bytes"},
		{"not JSON", []byte("<html>login</html>"), "not JSON"},
		{"broken JSON", []byte(`{"swagger":"2.0",`), "not JSON"},
		{"empty", nil, "empty document"},
		{"JSON array", []byte(`[1,2]`), "not a JSON object"},
		{"plain JSON object", []byte(`{"hello":"world"}`), "neither a Swagger 2.0 nor an OpenAPI 3 document"},
		{"swagger 1.2", []byte(`{"swagger":"1.2","info":{},"paths":{}}`), `unsupported swagger version "1.2"`},
		{"openapi 4", []byte(`{"openapi":"4.0.0","info":{},"paths":{}}`), `unsupported openapi version "4.0.0"`},
		{"swagger without paths", []byte(`{"swagger":"2.0","info":{}}`), `without a "paths" object`},
		{"openapi without info", []byte(`{"openapi":"3.0.0","paths":{}}`), `without an "info" object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MaxSpecBytes = limit }, octest.WithInstances(instances(1)...))
			spec := tt.spec
			f.srv.SetSpec(1, spec)
			got, err := f.c.Docs(t.Context(), 1)
			assert.Equal(t, "-1", f.srv.LastQuery(octest.EndpointDocs).Get("version"))
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, spec, got, "served byte for byte")
				return
			}
			require.ErrorIs(t, err, remote.ErrInvalidSpec)
			assert.NotErrorIs(t, err, remote.ErrRetryable)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Contains(t, err.Error(), "instance 1")
			var specErr *SpecError
			require.ErrorAs(t, err, &specErr)
			assert.Equal(t, int64(1), specErr.InstanceID)
			assert.Equal(t, 1, f.srv.Count(octest.EndpointDocs), "spec failures are not retried")
		})
	}
}

func TestDocsOversizedWithoutContentLength(t *testing.T) {
	// A chunked answer has no Content-Length; the cap still holds.
	big := octest.SwaggerDocument("x", 1<<20)
	hs := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fl := w.(http.Flusher)
		for i := 0; i < len(big); i += 4096 {
			_, _ = w.Write(big[i:min(i+4096, len(big))])
			fl.Flush()
		}
	})
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{Host: srv.URL, UserSecret: "user", OrganizationSecret: "org1", MaxSpecBytes: 10000})
	require.NoError(t, err)
	_, err = c.Docs(t.Context(), 1)
	require.ErrorIs(t, err, remote.ErrInvalidSpec)
	assert.Contains(t, err.Error(), "larger than the limit of 10000 bytes")
}

func TestDocsUnknownInstance(t *testing.T) {
	f := newFixture(t, nil, octest.WithInstances(instances(1)...))
	_, err := f.c.Docs(t.Context(), 99)
	require.ErrorIs(t, err, remote.ErrNotFound)
	assert.Contains(t, err.Error(), "No instance found with ID 99")
	assert.Contains(t, err.Error(), "GET /instances/99/docs: 404 Not Found")
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := octest.NewServer()
	url := srv.URL
	srv.Close()
	c, err := NewClient(Config{Host: url, UserSecret: "user", OrganizationSecret: "org1", MaxRetries: 2,
		Backoff: func(int, time.Duration) time.Duration { return 0 }})
	require.NoError(t, err)
	_, err = c.Instances(t.Context())
	require.ErrorIs(t, err, remote.ErrRetryable)
	assert.Contains(t, err.Error(), "GET /instances")
	assert.Contains(t, err.Error(), "after 3 attempts")
}

func TestAPIErrorClassification(t *testing.T) {
	tests := []struct {
		status                     int
		fatal, retryable, notFound bool
	}{
		{400, false, false, false},
		{401, true, false, false},
		{403, true, false, false},
		{404, false, false, true},
		{406, false, false, false},
		{429, false, true, false},
		{500, false, true, false},
		{502, false, true, false},
		{504, false, true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			var err error = &APIError{Method: "GET", Path: "/instances", StatusCode: tt.status}
			assert.Equal(t, tt.fatal, errors.Is(err, ocsync.ErrFatal))
			assert.Equal(t, tt.retryable, errors.Is(err, remote.ErrRetryable))
			assert.Equal(t, tt.notFound, errors.Is(err, remote.ErrNotFound))
		})
	}
}

func BenchmarkInstances10000(b *testing.B) {
	srv := octest.NewServer(octest.WithInstances(instances(10000)...))
	defer srv.Close()
	c, err := NewClient(Config{Host: srv.URL, UserSecret: redact.Secret(srv.UserSecret), OrganizationSecret: redact.Secret(srv.OrganizationSecret)})
	require.NoError(b, err)
	for b.Loop() {
		got, err := c.Instances(b.Context())
		if err != nil || len(got) != 10000 {
			b.Fatal(err, len(got))
		}
	}
}

func BenchmarkDocs100KB(b *testing.B) {
	srv := octest.NewServer(octest.WithInstances(instances(1)...), octest.WithDefaultSpec(octest.SwaggerDocument("bench", 100<<10)))
	defer srv.Close()
	c, err := NewClient(Config{Host: srv.URL, UserSecret: redact.Secret(srv.UserSecret), OrganizationSecret: redact.Secret(srv.OrganizationSecret)})
	require.NoError(b, err)
	for b.Loop() {
		if _, err := c.Docs(b.Context(), 1); err != nil {
			b.Fatal(err)
		}
	}
}
