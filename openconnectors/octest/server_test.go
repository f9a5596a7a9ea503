package octest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get sends an authenticated GET to path below the API base.
func get(t *testing.T, s *Server, path string, q url.Values, mutate func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	u := s.URL + apiPath + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "User "+s.UserSecret+", Organization "+s.OrganizationSecret)
	req.Header.Set("Accept", "application/json")
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func seq(n int, tags ...string) []Instance {
	out := make([]Instance, n)
	for i := range out {
		out[i] = Instance{ID: int64(i + 1), Name: fmt.Sprintf("inst-%d", i+1), Token: "t", Element: Element{ID: 7, Key: "sfdc", Name: "Salesforce"}, Tags: tags}
	}
	return out
}

// listAll follows cursors and returns the ids in order and the number of pages.
func listAll(t *testing.T, s *Server, q url.Values) ([]int64, int) {
	t.Helper()
	var ids []int64
	for page := 1; ; page++ {
		require.Less(t, page, 1000, "cursor loop")
		resp, body := get(t, s, "/instances", q, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var items []struct {
			ID json.Number `json:"id"`
		}
		require.NoError(t, json.Unmarshal(body, &items))
		for _, it := range items {
			id, err := strconv.ParseInt(strings.Trim(it.ID.String(), `"`), 10, 64)
			require.NoError(t, err)
			ids = append(ids, id)
		}
		next := resp.Header.Get("Elements-Next-Page-Token")
		if next == "" {
			return ids, page
		}
		q.Set("nextPage", next)
	}
}

func TestPagination(t *testing.T) {
	tests := []struct {
		name      string
		instances int
		pageSize  string
		wantPages int
	}{
		{"empty", 0, "", 1},
		{"one", 1, "", 1},
		{"exactly one default page", 200, "", 1},
		{"one more than a page", 201, "", 2},
		{"small pages", 10, "3", 4},
		{"exact small pages", 9, "3", 3},
		{"oversized page size is capped", 450, "1000", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(WithInstances(seq(tt.instances)...))
			defer s.Close()
			q := url.Values{}
			if tt.pageSize != "" {
				q.Set("pageSize", tt.pageSize)
			}
			ids, pages := listAll(t, s, q)
			assert.Equal(t, tt.wantPages, pages)
			require.Len(t, ids, tt.instances)
			for i, id := range ids {
				assert.Equal(t, int64(i+1), id)
			}
			assert.Equal(t, pages, s.Count(EndpointInstances))
		})
	}
}

func TestTagsAreANY(t *testing.T) {
	s := NewServer()
	defer s.Close()
	s.Put(Instance{ID: 1, Tags: []string{"a"}}, Instance{ID: 2, Tags: []string{"b"}},
		Instance{ID: 3, Tags: []string{"a", "c"}}, Instance{ID: 4})
	tests := []struct {
		tags []string
		want []int64
	}{
		{nil, []int64{1, 2, 3, 4}},
		{[]string{"a"}, []int64{1, 3}},
		{[]string{"b", "c"}, []int64{2, 3}},
		{[]string{"zzz"}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.tags), func(t *testing.T) {
			ids, _ := listAll(t, s, url.Values{"tags[]": tt.tags})
			assert.Equal(t, tt.want, ids)
		})
	}
}

func TestRejections(t *testing.T) {
	s := NewServer(WithSecrets("u+/=", "o+/="), WithInstances(seq(1)...))
	defer s.Close()
	tests := []struct {
		name   string
		path   string
		mutate func(*http.Request)
		want   int
		ep     Endpoint
	}{
		{"no auth", "/instances", func(r *http.Request) { r.Header.Del("Authorization") }, 401, EndpointInstances},
		{"wrong secret", "/instances/1/docs", func(r *http.Request) { r.Header.Set("Authorization", "User u, Organization o+/=") }, 401, EndpointDocs},
		{"xml only", "/instances", func(r *http.Request) { r.Header.Set("Accept", "application/xml") }, 406, EndpointInstances},
		{"unknown id", "/instances/99/docs", nil, 404, EndpointDocs},
		{"unknown instance", "/instances/99", nil, 404, EndpointInstance},
		{"bad id", "/instances/abc/docs", nil, 400, EndpointDocs},
		{"bad page size", "/instances?pageSize=0", nil, 400, EndpointInstances},
		{"bad cursor", "/instances?nextPage=bm9wZQ", nil, 400, EndpointInstances},
		{"unknown path", "/elements", nil, 404, EndpointOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Count(tt.ep)
			path, rawQuery, _ := strings.Cut(tt.path, "?")
			q, err := url.ParseQuery(rawQuery)
			require.NoError(t, err)
			if rawQuery == "" {
				q = nil
			}
			resp, body := get(t, s, path, q, tt.mutate)
			assert.Equal(t, tt.want, resp.StatusCode)
			var e struct{ RequestID, Message string }
			require.NoError(t, json.Unmarshal(body, &e))
			assert.NotEmpty(t, e.RequestID)
			assert.NotEmpty(t, e.Message)
			assert.Equal(t, e.RequestID, resp.Header.Get("Elements-Request-Id"))
			assert.Equal(t, before+1, s.Count(tt.ep))
		})
	}
	assert.Equal(t, len(tests), s.Requests())
	counts := s.Counts()
	assert.Equal(t, map[Endpoint]int{EndpointInstances: 4, EndpointDocs: 3, EndpointInstance: 1, EndpointOther: 1}, counts)
	counts[EndpointDocs] = 100
	assert.Equal(t, 3, s.Count(EndpointDocs), "Counts returns a copy")
	s.ResetCounts()
	assert.Empty(t, s.Counts())
}

func TestFaults(t *testing.T) {
	s := NewServer(WithInstances(seq(3)...))
	defer s.Close()
	s.AddFault(EndpointDocs, Fault{Status: 429, RetryAfter: "7", Times: 2})
	s.AddFault(EndpointDocs, Fault{Body: []byte("not json"), InstanceID: 3})
	for i, want := range []int{429, 429, 200} {
		resp, body := get(t, s, "/instances/1/docs", nil, nil)
		require.Equal(t, want, resp.StatusCode, "request %d", i)
		if want == 429 {
			assert.Equal(t, "7", resp.Header.Get("Retry-After"))
		} else {
			assert.True(t, json.Valid(body))
		}
	}
	resp, body := get(t, s, "/instances/3/docs", nil, nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "not json", string(body))
	s.ClearFaults()
	_, body = get(t, s, "/instances/3/docs", nil, nil)
	assert.True(t, json.Valid(body))
	assert.Equal(t, 5, s.Count(EndpointDocs))
	s.ResetCounts()
	assert.Zero(t, s.Requests())
}

func TestRepeatCursor(t *testing.T) {
	s := NewServer(WithInstances(seq(5)...))
	defer s.Close()
	s.SetRepeatCursor(true)
	q := url.Values{"pageSize": {"2"}}
	resp, _ := get(t, s, "/instances", q, nil)
	first := resp.Header.Get("Elements-Next-Page-Token")
	require.NotEmpty(t, first)
	q.Set("nextPage", first)
	resp, _ = get(t, s, "/instances", q, nil)
	assert.Equal(t, first, resp.Header.Get("Elements-Next-Page-Token"))
}

func TestMutations(t *testing.T) {
	s := NewServer(WithInstances(seq(3)...))
	defer s.Close()
	require.True(t, s.Update(2, func(in *Instance) { in.Name = "renamed"; in.ID = 99 }))
	assert.False(t, s.Update(42, func(*Instance) {}))
	s.Remove(1, 1000)
	s.Put(Instance{ID: 0, Name: "zero"})
	s.PutRaw(10, []string{"x"}, json.RawMessage(`{"id":"10","tags":[{"id":1,"name":"x"}]}`))
	s.SetSpec(3, []byte(`{"custom":true}`))

	got := s.Instances()
	require.Len(t, got, 4)
	assert.Equal(t, []int64{0, 2, 3, 10}, []int64{got[0].ID, got[1].ID, got[2].ID, got[3].ID})
	assert.Equal(t, "renamed", got[1].Name)
	assert.Equal(t, 4, s.Len())

	_, body := get(t, s, "/instances/3/docs", nil, nil)
	assert.Equal(t, `{"custom":true}`, string(body))
	s.RemoveSpec(3)
	_, body = get(t, s, "/instances/3/docs", nil, nil)
	assert.Equal(t, string(SwaggerDocument("sfdc", 0)), string(body))

	_, body = get(t, s, "/instances/10", nil, nil)
	assert.JSONEq(t, `{"id":"10","tags":[{"id":1,"name":"x"}]}`, string(body))
	ids, _ := listAll(t, s, url.Values{"tags[]": {"x"}})
	assert.Equal(t, []int64{10}, ids)
}

func TestInstanceWireShape(t *testing.T) {
	s := NewServer(WithInstances(Instance{ID: 5, Name: "n", Token: "a+b/c=", Element: Element{ID: 9, Key: "k", Name: "E"},
		Disabled: true, Invalid: true, UpdatedDate: 1700000000000}))
	defer s.Close()
	_, body := get(t, s, "/instances/5", nil, nil)
	assert.JSONEq(t, `{"id":5,"name":"n","token":"a+b/c=","element":{"id":9,"key":"k","name":"E"},"elementId":9,
		"tags":[],"disabled":true,"valid":false,"updatedDate":1700000000000}`, string(body))
}

func TestSwaggerDocument(t *testing.T) {
	for _, size := range []int{0, 1000, 100 << 10, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			doc := SwaggerDocument("title \"quoted\"", size)
			var parsed struct {
				Swagger string                    `json:"swagger"`
				Info    struct{ Title string }    `json:"info"`
				Paths   map[string]map[string]any `json:"paths"`
			}
			require.NoError(t, json.Unmarshal(doc, &parsed))
			assert.Equal(t, "2.0", parsed.Swagger)
			assert.Equal(t, "title \"quoted\"", parsed.Info.Title)
			assert.NotEmpty(t, parsed.Paths)
			assert.GreaterOrEqual(t, len(doc), size)
			assert.Less(t, len(doc), size+1024)
			assert.Equal(t, doc, SwaggerDocument("title \"quoted\"", size))
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	s := NewServer(WithInstances(seq(50)...))
	defer s.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				s.Put(Instance{ID: int64(100 + i*10 + j)})
				resp, _ := get(t, s, "/instances", url.Values{"pageSize": {"7"}}, nil)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				s.Remove(int64(100 + i*10 + j))
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 50, s.Len())
	assert.Equal(t, 80, s.Count(EndpointInstances))
}

func BenchmarkList10000(b *testing.B) {
	s := NewServer(WithInstances(seq(10000)...))
	defer s.Close()
	spec := SwaggerDocument("bench", 100<<10)
	for i := range 10000 {
		s.SetSpec(int64(i+1), spec)
	}
	b.ResetTimer()
	for b.Loop() {
		q := url.Values{}
		for {
			req, _ := http.NewRequest(http.MethodGet, s.URL+apiPath+"/instances?"+q.Encode(), nil)
			req.Header.Set("Authorization", "User "+s.UserSecret+", Organization "+s.OrganizationSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			next := resp.Header.Get("Elements-Next-Page-Token")
			if next == "" {
				break
			}
			q.Set("nextPage", next)
		}
	}
}

func TestEcho(t *testing.T) {
	const user, org = `u<s&e"r\1`, "o+r/g=="
	s := NewServer(WithSecrets(user, org), WithInstances(seq(1)...))
	defer s.Close()
	auth := "User " + user + ", Organization " + org

	resp, body := get(t, s, "/instances/99/docs", url.Values{"x": {"1"}}, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.NotContains(t, string(body), user, "echo is off by default")
	assert.Empty(t, resp.Header.Get("Octest-Echo-Authorization"))

	s.SetEcho(true)
	resp, body = get(t, s, "/instances/99/docs", url.Values{"x": {"1"}}, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	var e struct{ RequestID, Message, ProviderMessage string }
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Contains(t, e.Message, "[Authorization: "+auth+"]")
	assert.Contains(t, e.Message, "[query: x=1]")
	assert.Contains(t, e.ProviderMessage, base64.StdEncoding.EncodeToString([]byte(auth)))
	assert.Contains(t, e.ProviderMessage, url.QueryEscape(auth))
	assert.NotContains(t, string(body), user, "JSON-escaped on the wire")
	assert.Equal(t, auth, resp.Header.Get("Octest-Echo-Authorization"))
	assert.Equal(t, "x=1", resp.Header.Get("Octest-Echo-Query"))

	resp, _ = get(t, s, "/instances", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, auth, resp.Header.Get("Octest-Echo-Authorization"), "every answer echoes in its headers")

	s2 := NewServer(WithEcho())
	defer s2.Close()
	_, body = get(t, s2, "/nowhere", nil, nil)
	assert.Contains(t, string(body), "[Authorization: User "+s2.UserSecret)
}

func TestTrickle(t *testing.T) {
	s := NewServer(WithInstances(seq(1)...))
	defer s.Close()
	doc := []byte(`{"swagger":"2.0","info":{},"paths":{}}`)
	s.SetSpec(1, doc)
	s.AddFault(EndpointDocs, Fault{Trickle: time.Millisecond, Times: 1})
	resp, body := get(t, s, "/instances/1/docs", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, doc, body, "a trickled body arrives whole")
	assert.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"))

	// A client that gives up ends the trickle.
	s.AddFault(EndpointDocs, Fault{Trickle: time.Hour, Times: 1})
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+apiPath+"/instances/1/docs", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "User "+s.UserSecret+", Organization "+s.OrganizationSecret)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err, "headers come at once")
	cancel()
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Error(t, err)
	s.Close() // returns only when the handler has stopped
}

func TestTotalCountAndFaultCursor(t *testing.T) {
	s := NewServer(WithTotalCount(), WithInstances(seq(5, "a")...))
	defer s.Close()
	s.Put(Instance{ID: 6, Tags: []string{"b"}})
	resp, _ := get(t, s, "/instances", url.Values{"pageSize": {"2"}, "tags[]": {"a"}}, nil)
	assert.Equal(t, "5", resp.Header.Get("Elements-Total-Count"))
	resp, _ = get(t, s, "/instances", nil, nil)
	assert.Equal(t, "6", resp.Header.Get("Elements-Total-Count"))

	s.AddFault(EndpointInstances, Fault{Header: http.Header{"Elements-Next-Page-Token": {"chosen"}, "Elements-Total-Count": {"x"}}, Times: 1})
	resp, _ = get(t, s, "/instances", url.Values{"pageSize": {"2"}}, nil)
	assert.Equal(t, "chosen", resp.Header.Get("Elements-Next-Page-Token"), "a fault's cursor wins")
	assert.Equal(t, "x", resp.Header.Get("Elements-Total-Count"))

	plain := NewServer(WithInstances(seq(1)...))
	defer plain.Close()
	resp, _ = get(t, plain, "/instances", nil, nil)
	assert.Empty(t, resp.Header.Values("Elements-Total-Count"), "off by default")
}
