package compass

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// scripted is a Director whose GraphQL answers a test writes by hand, for
// answer shapes the fake Director never produces: it serves a token
// endpoint and answers each GraphQL request with what answer returns for
// the operation and its number (1 for the first call of that operation).
type scripted struct {
	srv    *httptest.Server
	answer func(op string, n int, vars map[string]any) string

	mu    sync.Mutex
	ops   []string
	count map[string]int
}

func newScripted(t *testing.T, answer func(op string, n int, vars map[string]any) string) *scripted {
	t.Helper()
	s := &scripted{answer: answer, count: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"scripted-token-1234","token_type":"bearer","expires_in":3600}`)
	})
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OperationName string         `json:"operationName"`
			Variables     map[string]any `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.ops = append(s.ops, req.OperationName)
		s.count[req.OperationName]++
		n := s.count[req.OperationName]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, s.answer(req.OperationName, n, req.Variables))
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// calls returns how often op was requested.
func (s *scripted) calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[op]
}

func (s *scripted) registry(t *testing.T, pageSize int) *Registry {
	t.Helper()
	return newRegistry(t, s.config(pageSize))
}

// config is the configuration of a Registry of the scripted Director.
func (s *scripted) config(pageSize int) Config {
	return Config{
		DirectorURL:  s.srv.URL + "/graphql",
		TokenURL:     s.srv.URL + "/token",
		ClientID:     "client",
		ClientSecret: "scripted-secret",
		Tenant:       "tenant",
		Scope:        ocsync.Scope{Context: testContext},
		PageSize:     pageSize,
		Backoff:      func(int, time.Duration) time.Duration { return time.Millisecond },
	}
}

// listedJSON is one listed application of this test context, as JSON.
func listedJSON(id string) string {
	return fmt.Sprintf(`{"id":%q,"name":"oc-%s","description":null,"providerName":null,"status":{"condition":"CONNECTED"},`+
		`"labels":{"open_connectors":{"connectorInstanceContext":%q,"connectorInstanceID":%q}}}`, id, id, testContext, id)
}

// pageJSON is an applications answer.
func pageJSON(total int, next bool, cursor string, items ...string) string {
	return fmt.Sprintf(`{"data":{"applications":{"totalCount":%d,"pageInfo":{"endCursor":%q,"hasNextPage":%t},"data":[%s]}}}`,
		total, cursor, next, strings.Join(items, ","))
}
