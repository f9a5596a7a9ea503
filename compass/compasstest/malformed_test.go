package compasstest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

func TestMalformedAnswers(t *testing.T) {
	const list = `{ applications(first: 1) { totalCount pageInfo { endCursor hasNextPage } data { id name } } }`
	tests := []struct {
		name string
		kind compasstest.Malformation
		want string
	}{
		{"data null", compasstest.DataNull, `{"data":null}`},
		{"field null", compasstest.FieldNull, `{"data":{"applications":null}}`},
		{"items null", compasstest.ItemsNull, `{"data":{"applications":{"data":null,"pageInfo":{"endCursor":"` + "REPLACE" + `","hasNextPage":true},"totalCount":2}}}`},
		{"null item", compasstest.NullItem, `"data":[{"id":`},
		{"missing id", compasstest.MissingID, `"data":[{"name":"`},
		{"page info null", compasstest.PageInfoNull, `"pageInfo":null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := compasstest.NewServer()
			defer s.Close()
			register(t, s, "a", nil)
			register(t, s, "b", nil)
			token := s.Token(compasstest.DefaultClientID, rw...)
			clean := call(t, s, token, compasstest.DefaultTenant, list, nil)
			require.Empty(t, clean.Errors)
			s.AddFault("applications", compasstest.Fault{Malformed: tt.kind, Times: 1})
			r := call(t, s, token, compasstest.DefaultTenant, list, nil)
			assert.Equal(t, http.StatusOK, r.Status)
			assert.Empty(t, r.Errors, "a malformed answer holds no error")
			var cursor string
			var page struct {
				PageInfo struct{ EndCursor string } `json:"pageInfo"`
			}
			_ = json.Unmarshal(clean.Data["applications"], &page)
			cursor = page.PageInfo.EndCursor
			want := strings.Replace(tt.want, "REPLACE", cursor, 1)
			if tt.kind == compasstest.ItemsNull {
				assert.JSONEq(t, want, r.Raw)
			} else {
				assert.Contains(t, r.Raw, want)
			}
			if tt.kind == compasstest.NullItem {
				assert.Contains(t, r.Raw, `,null]`)
			}
			again := call(t, s, token, compasstest.DefaultTenant, list, nil)
			assert.Equal(t, clean.Raw, again.Raw, "the fault is used up")
		})
	}

	t.Run("endless cursor", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		register(t, s, "a", nil)
		token := s.Token(compasstest.DefaultClientID, rw...)
		s.AddFault("applications", compasstest.Fault{Malformed: compasstest.EndlessCursor, Times: 5})
		seen := map[string]bool{}
		after := ""
		for range 5 {
			r := call(t, s, token, compasstest.DefaultTenant,
				`query($after: PageCursor) { applications(first: 1, after: $after) { pageInfo { endCursor hasNextPage } data { name } } }`,
				map[string]any{"after": after})
			require.Empty(t, r.Errors, r.Raw)
			var page struct {
				PageInfo struct {
					EndCursor   string `json:"endCursor"`
					HasNextPage bool   `json:"hasNextPage"`
				} `json:"pageInfo"`
				Data []struct{ Name string } `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.Data["applications"], &page))
			assert.True(t, page.PageInfo.HasNextPage)
			assert.False(t, seen[page.PageInfo.EndCursor], "a new cursor each time")
			seen[page.PageInfo.EndCursor] = true
			require.Len(t, page.Data, 1, "the cursor leads to the first page again")
			after = page.PageInfo.EndCursor
		}
	})

	t.Run("mutation answered data null", func(t *testing.T) {
		for _, committed := range []bool{false, true} {
			s := compasstest.NewServer()
			s.AddFault("registerApplication", compasstest.Fault{Malformed: compasstest.DataNull, After: committed, Times: 1})
			r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, registerMutation,
				map[string]any{"in": registerInput("maybe", nil)})
			assert.Equal(t, http.StatusOK, r.Status)
			assert.JSONEq(t, `{"data":null}`, r.Raw)
			_, stored := s.Application(compasstest.DefaultTenant, "maybe")
			assert.Equal(t, committed, stored, "stored only after commit")
			s.Close()
		}
	})

	t.Run("mutation without id", func(t *testing.T) {
		s := compasstest.NewServer()
		defer s.Close()
		s.AddFault("registerApplication", compasstest.Fault{Malformed: compasstest.MissingID, After: true, Times: 1})
		r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, registerMutation,
			map[string]any{"in": registerInput("noid", nil)})
		require.Empty(t, r.Errors)
		app := decode[map[string]any](t, r.Data["registerApplication"])
		assert.NotContains(t, app, "id")
		assert.Equal(t, "noid", app["name"])
	})
}

func TestEcho(t *testing.T) {
	s := compasstest.NewServer(compasstest.WithEcho())
	defer s.Close()
	token := s.Token(compasstest.DefaultClientID, rw...)

	s.AddFault("applications", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
	r := call(t, s, token, compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0].Message, `Authorization="Bearer `+token+`"`)
	assert.Contains(t, r.Errors[0].Message, `tenant="`+compasstest.DefaultTenant+`"`)
	assert.Contains(t, r.Errors[0].Message, `applications { totalCount }`, "the raw body")

	s.AddFault("applications", compasstest.Fault{Status: http.StatusBadGateway, Times: 1})
	r = call(t, s, token, compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
	assert.Equal(t, http.StatusBadGateway, r.Status)
	assert.Contains(t, r.Raw, "Bearer "+token)

	r = call(t, s, token, "unknown-tenant", `{ applications { totalCount } }`, nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0].Message, "Bearer "+token)

	status, out := tokenRequest(t, s, compasstest.DefaultClientID, "wrong-secret", url.Values{"grant_type": {"client_credentials"}}, true)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, out["error_description"], `Authorization=["Basic `, "the Basic credentials")

	quiet := compasstest.NewServer()
	defer quiet.Close()
	quiet.AddFault("applications", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
	quietToken := quiet.Token(compasstest.DefaultClientID, rw...)
	r = call(t, quiet, quietToken, compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.NotContains(t, r.Errors[0].Message, "Bearer", "no echo unless asked for")

	quiet.SetEcho(true)
	quiet.AddFault("applications", compasstest.Fault{Code: compasstest.InvalidData, Times: 1})
	r = call(t, quiet, quietToken, compasstest.DefaultTenant, `{ applications { totalCount } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0].Message, `Authorization="Bearer `+quietToken+`"`, "echo turned on at run time")
	s.SetEcho(false)
	r = call(t, s, token, "unknown-tenant", `{ applications { totalCount } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.NotContains(t, r.Errors[0].Message, "Bearer", "echo turned off at run time")
}

func TestDirectorNameRule(t *testing.T) {
	assert.Equal(t, "mp-x", compasstest.NormalizeName("mp-x"), "a name in normal form is kept")
	assert.Equal(t, "mp-x", compasstest.NormalizeName("x"))
	assert.Equal(t, "mp-mp-x-y", compasstest.NormalizeName("mp-X.y"))

	s := compasstest.NewServer()
	defer s.Close()
	register(t, s, "mp-x", nil)
	r := call(t, s, s.Token(compasstest.DefaultClientID, rw...), compasstest.DefaultTenant, registerMutation,
		map[string]any{"in": registerInput("x", nil)})
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "NotUniqueName", r.Errors[0].Extensions.Error, "mp-x and x clash")

	id, err := s.Seed(compasstest.DefaultTenant, compasstest.Application{Name: "Seeded App"})
	require.NoError(t, err)
	app, ok := s.Application(compasstest.DefaultTenant, "Seeded App")
	require.True(t, ok)
	assert.Equal(t, id, app.ID)
	assert.Equal(t, "mp-seeded-app", app.Labels["name"], "Seed keeps the name label as the Director does")
	data := do(t, s, `{ applications(filter: [{key: "name", query: "\"mp-seeded-app\""}]) { data { id } } }`, nil)
	assert.Contains(t, string(data["applications"]), id, "found by its name label")
}
