package compasstest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

func TestFaults(t *testing.T) {
	const list = `{ applications { totalCount } }`
	tests := []struct {
		name    string
		op      string
		fault   compasstest.Fault
		status  int
		errName string
	}{
		{"http 503", "applications", compasstest.Fault{Status: http.StatusServiceUnavailable}, 503, ""},
		{"internal error", "applications", compasstest.Fault{Code: compasstest.InternalError}, 200, "InternalError"},
		{"default is internal error", "applications", compasstest.Fault{}, 200, "InternalError"},
		{"not unique name", "applications", compasstest.Fault{Code: compasstest.NotUniqueName}, 200, "NotUniqueName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := compasstest.NewServer(compasstest.Config{})
			defer s.Close()
			token := s.Token(compasstest.DefaultClientID, rw...)
			tt.fault.Times = 2
			s.InjectFault(tt.op, tt.fault)
			for range 2 {
				r := call(t, s, token, compasstest.DefaultTenant, list, nil)
				assert.Equal(t, tt.status, r.Status, r.Raw)
				if tt.errName != "" {
					require.Len(t, r.Errors, 1, r.Raw)
					assert.Equal(t, tt.errName, r.Errors[0].Extensions.Error)
				}
			}
			r := call(t, s, token, compasstest.DefaultTenant, list, nil)
			assert.Equal(t, http.StatusOK, r.Status)
			assert.Empty(t, r.Errors, "the fault is used up")
			assert.Equal(t, 3, s.Calls("applications"))
		})
	}
	t.Run("commit then fail", func(t *testing.T) {
		s := compasstest.NewServer(compasstest.Config{})
		defer s.Close()
		s.InjectFault("registerApplication", compasstest.Fault{Status: http.StatusBadGateway, AfterCommit: true})
		r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, registerMutation,
			map[string]any{"in": registerInput("ambiguous", nil)})
		assert.Equal(t, http.StatusBadGateway, r.Status)
		_, stored := s.Application(compasstest.DefaultTenant, "ambiguous")
		assert.True(t, stored, "the application was stored although the client saw 502")
	})
	t.Run("fail before commit", func(t *testing.T) {
		s := compasstest.NewServer(compasstest.Config{})
		defer s.Close()
		s.InjectFault("registerApplication", compasstest.Fault{Status: http.StatusBadGateway})
		r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, registerMutation,
			map[string]any{"in": registerInput("lost", nil)})
		assert.Equal(t, http.StatusBadGateway, r.Status)
		_, stored := s.Application(compasstest.DefaultTenant, "lost")
		assert.False(t, stored)
	})
	t.Run("token endpoint", func(t *testing.T) {
		s := compasstest.NewServer(compasstest.Config{})
		defer s.Close()
		s.InjectFault(compasstest.TokenOperation, compasstest.Fault{Status: http.StatusServiceUnavailable})
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"application:read"}}
		status, _ := tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
		assert.Equal(t, http.StatusServiceUnavailable, status)
		status, _ = tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
		assert.Equal(t, http.StatusOK, status)
		s.InjectFault(compasstest.TokenOperation, compasstest.Fault{Status: http.StatusServiceUnavailable})
		s.ClearFaults()
		status, _ = tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
		assert.Equal(t, http.StatusOK, status)
	})
}

func TestCounters(t *testing.T) {
	s := compasstest.NewServer(compasstest.Config{})
	defer s.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"application:read application:write"}}
	_, body := tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
	token := body["access_token"].(string)
	call(t, s, token, compasstest.DefaultTenant, `{ applications { totalCount } a: applications { totalCount } }`, nil)
	call(t, s, token, compasstest.DefaultTenant, registerMutation, map[string]any{"in": registerInput("x", nil)})
	call(t, s, "", compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
	assert.Equal(t, 4, s.Requests())
	assert.Equal(t, map[string]int{compasstest.TokenOperation: 1, "applications": 2, "registerApplication": 1}, s.CallCounts())
	s.ResetCounters()
	assert.Zero(t, s.Requests())
	assert.Zero(t, s.Calls("applications"))
}

func TestLatency(t *testing.T) {
	s := compasstest.NewServer(compasstest.Config{})
	defer s.Close()
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.GraphQLURL(), strings.NewReader(`{"query":"{ viewer { id } }"}`))
	require.NoError(t, err)
	_, err = s.HTTPClient().Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the request is held back by the latency")
	s.SetLatency(0)
	r := call(t, s, s.Token(compasstest.DefaultClientID), "", `{ viewer { id } }`, nil)
	assert.Equal(t, http.StatusOK, r.Status)
}

func TestSeedAndConcurrency(t *testing.T) {
	s := compasstest.NewServer(compasstest.Config{IntegrationSystems: []string{}})
	defer s.Close()
	_, err := s.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "foreign", IntegrationSystemID: "nope"})
	assert.Error(t, err, "unknown integration system")
	s.AddIntegrationSystem("nope")
	_, err = s.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "foreign", IntegrationSystemID: "nope"})
	require.NoError(t, err)
	_, err = s.Seed("unknown", compasstest.Application{Name: "x"})
	assert.ErrorIs(t, err, compasstest.ErrUnknownTenant)

	token := s.Token(compasstest.DefaultClientID, rw...)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			in := registerInput(fmt.Sprintf("c-%d", i), nil)
			delete(in, "integrationSystemID")
			call(t, s, token, compasstest.DefaultTenant, registerMutation, map[string]any{"in": in})
			call(t, s, token, compasstest.DefaultTenant, pageQuery, map[string]any{"first": 3})
			// Every goroutine races for the same name: exactly one wins.
			call(t, s, token, compasstest.DefaultTenant, `mutation { registerApplication(in: {name: "Same"}) { id } }`, nil)
		})
	}
	wg.Wait()
	apps := s.Applications(compasstest.DefaultTenant)
	assert.Len(t, apps, 1+8+1)
}
