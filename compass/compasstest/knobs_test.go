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
			s := compasstest.NewServer()
			defer s.Close()
			token := s.Token(compasstest.DefaultClientID, rw...)
			tt.fault.Times = 2
			s.AddFault(tt.op, tt.fault)
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
			assert.Equal(t, 3, s.Count("applications"))
		})
	}
	t.Run("commit then fail", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		s.AddFault("registerApplication", compasstest.Fault{Status: http.StatusBadGateway, After: true, Times: 1})
		r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, registerMutation,
			map[string]any{"in": registerInput("ambiguous", nil)})
		assert.Equal(t, http.StatusBadGateway, r.Status)
		_, stored := s.Application(compasstest.DefaultTenant, "ambiguous")
		assert.True(t, stored, "the application was stored although the client saw 502")
	})
	t.Run("fail before commit", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		s.AddFault("registerApplication", compasstest.Fault{Status: http.StatusBadGateway, Times: 1})
		r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, registerMutation,
			map[string]any{"in": registerInput("lost", nil)})
		assert.Equal(t, http.StatusBadGateway, r.Status)
		_, stored := s.Application(compasstest.DefaultTenant, "lost")
		assert.False(t, stored)
	})
	t.Run("token endpoint", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		s.AddFault(compasstest.TokenOperation, compasstest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"application:read"}}
		status, _ := tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
		assert.Equal(t, http.StatusServiceUnavailable, status)
		status, _ = tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
		assert.Equal(t, http.StatusOK, status)
		s.AddFault(compasstest.TokenOperation, compasstest.Fault{Status: http.StatusServiceUnavailable})
		s.ClearFaults()
		status, _ = tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
		assert.Equal(t, http.StatusOK, status)
	})
	t.Run("times 0 is every call until cleared", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		token := s.Token(compasstest.DefaultClientID, rw...)
		s.AddFault("applications", compasstest.Fault{Code: compasstest.InvalidData})
		s.AddFault("applications", compasstest.Fault{Code: compasstest.NotUniqueName, Times: 1})
		for i := range 5 {
			r := call(t, s, token, compasstest.DefaultTenant, list, nil)
			require.Len(t, r.Errors, 1, "call %d: %s", i, r.Raw)
			assert.Equal(t, "InvalidData", r.Errors[0].Extensions.Error, "the first fault hides the second")
		}
		r := call(t, s, token, compasstest.DefaultTenant, `{ viewer { id } }`, nil)
		assert.Empty(t, r.Errors, "another operation is not affected")
		s.ClearFaults()
		r = call(t, s, token, compasstest.DefaultTenant, list, nil)
		assert.Empty(t, r.Errors, r.Raw)
		assert.Equal(t, 6, s.Count("applications"))
	})
	t.Run("faults apply in the order added", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		token := s.Token(compasstest.DefaultClientID, rw...)
		s.AddFault("applications", compasstest.Fault{Code: compasstest.InvalidData, Times: 2})
		s.AddFault("applications", compasstest.Fault{Status: http.StatusBadGateway, Times: 1})
		var got []string
		for range 4 {
			r := call(t, s, token, compasstest.DefaultTenant, list, nil)
			switch {
			case len(r.Errors) > 0:
				got = append(got, r.Errors[0].Extensions.Error)
			default:
				got = append(got, http.StatusText(r.Status))
			}
		}
		assert.Equal(t, []string{"InvalidData", "InvalidData", "Bad Gateway", "OK"}, got)
	})
	t.Run("aliased fields are calls each", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		s.AddFault("applications", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
		r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant,
			`{ a: applications { totalCount } b: applications { totalCount } }`, nil)
		assert.Len(t, r.Errors, 1, "one of the two calls takes the one use: %s", r.Raw)
		assert.Equal(t, 2, s.Count("applications"))
		r = call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant,
			`{ a: applications { totalCount } b: applications { totalCount } }`, nil)
		assert.Empty(t, r.Errors, "the fault is used up: %s", r.Raw)
	})
}

func TestCounters(t *testing.T) {
	s := compasstest.NewServer()
	defer s.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"application:read application:write"}}
	_, body := tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
	token := body["access_token"].(string)
	call(t, s, token, compasstest.DefaultTenant, `{ applications { totalCount } a: applications { totalCount } }`, nil)
	call(t, s, token, compasstest.DefaultTenant, registerMutation, map[string]any{"in": registerInput("x", nil)})
	call(t, s, "", compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
	assert.Equal(t, 4, s.Requests())
	assert.Equal(t, map[string]int{compasstest.TokenOperation: 1, "applications": 2, "registerApplication": 1}, s.Counts())
	assert.Equal(t, 3, s.FieldExecutions(), "each aliased field counts; the token does not")
	s.ResetCounts()
	assert.Zero(t, s.Requests())
	assert.Zero(t, s.Count("applications"))
	assert.Zero(t, s.FieldExecutions())
}

func TestLatency(t *testing.T) {
	held := func(t *testing.T, s *compasstest.Server) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.GraphQLURL(), strings.NewReader(`{"query":"{ viewer { id } }"}`))
		require.NoError(t, err)
		_, err = s.HTTPClient().Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded, "the request is held back by the latency")
	}
	configured := compasstest.NewServer(compasstest.WithLatency(time.Hour))
	defer configured.Close()
	held(t, configured)

	s := compasstest.NewServer()
	defer s.Close()
	s.SetLatency(time.Hour)
	held(t, s)
	s.SetLatency(0)
	r := call(t, s, s.Token(compasstest.DefaultClientID), "", `{ viewer { id } }`, nil)
	assert.Equal(t, http.StatusOK, r.Status)
}

func TestSeedAndConcurrency(t *testing.T) {
	s := compasstest.NewServer(compasstest.WithIntegrationSystems())
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

func TestOptions(t *testing.T) {
	const tenantB = "5a0c7f4e-3d2b-4c1a-9e8f-7b6a5d4c3b2a"
	s := compasstest.NewServer(
		compasstest.WithTenants(otherTenant), compasstest.WithTenants(tenantB),
		compasstest.WithClients(compasstest.Client{ID: "a", Secret: "sa"}),
		compasstest.WithClients(compasstest.Client{ID: "b", Secret: "sb", Scopes: []string{"application:read"}, ConsumerID: "consumer-b"}),
		compasstest.WithIntegrationSystems("is-1"), compasstest.WithIntegrationSystems("is-2"),
		compasstest.WithTokenLifetime(90*time.Second),
	)
	defer s.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"application:read"}}

	status, _ := tokenRequest(t, s, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
	assert.Equal(t, http.StatusUnauthorized, status, "the given clients replace the default one")
	status, body := tokenRequest(t, s, "a", "sa", form, true)
	require.Equal(t, http.StatusOK, status)
	assert.EqualValues(t, 90, body["expires_in"])
	status, _ = tokenRequest(t, s, "b", "sb", url.Values{"grant_type": {"client_credentials"}, "scope": {"application:write"}}, true)
	assert.Equal(t, http.StatusBadRequest, status, "client b may only read")

	r := call(t, s, s.Token("b"), "", `{ viewer { id } }`, nil)
	assert.JSONEq(t, `{"id":"consumer-b"}`, string(r.Data["viewer"]))

	token := s.Token("a", rw...)
	for _, tenant := range []string{otherTenant, tenantB} {
		r := call(t, s, token, tenant, `{ applications { totalCount } }`, nil)
		assert.Empty(t, r.Errors, "tenant %s: %s", tenant, r.Raw)
	}
	r = call(t, s, token, compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
	assert.Equal(t, http.StatusBadRequest, r.Status, "the given tenants replace the default one")

	for _, id := range []string{"is-1", "is-2"} {
		_, err := s.Seed(otherTenant, compasstest.Application{Name: "app-" + id, IntegrationSystemID: id})
		assert.NoError(t, err, id)
	}
	_, err := s.Seed(otherTenant, compasstest.Application{Name: "default", IntegrationSystemID: compasstest.DefaultIntegrationSystemID})
	assert.Error(t, err, "the given integration systems replace the default one")

	none := compasstest.NewServer(compasstest.WithTenants(), compasstest.WithClients())
	defer none.Close()
	status, _ = tokenRequest(t, none, compasstest.DefaultClientID, compasstest.DefaultClientSecret, form, true)
	assert.Equal(t, http.StatusUnauthorized, status, "no client at all")
	_, err = none.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "x"})
	assert.ErrorIs(t, err, compasstest.ErrUnknownTenant, "no tenant at all")
}
