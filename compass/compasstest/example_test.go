package compasstest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

// A test starts a fake Director, gets a token at its token endpoint and
// sends GraphQL requests with the tenant header, like any client would.
func Example() {
	s := compasstest.NewServer()
	defer s.Close()
	_, _ = s.Seed(compasstest.DefaultTenant, compasstest.Application{
		Name:   "oc-1",
		Labels: map[string]any{"open_connectors": map[string]any{"connectorInstanceID": "1"}},
	})

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"application:read"}}
	req, _ := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(compasstest.DefaultClientID, compasstest.DefaultClientSecret)
	res, err := s.HTTPClient().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()

	token := s.Token(compasstest.DefaultClientID, "application:read") // or the one just fetched
	query := `{"query":"{ applications(filter: [{key: \"open_connectors\"}]) { totalCount data { name } } }"}`
	req, _ = http.NewRequest(http.MethodPost, s.GraphQLURL(), strings.NewReader(query))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("tenant", compasstest.DefaultTenant)
	res, err = s.HTTPClient().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	fmt.Println("token requests:", s.Count(compasstest.TokenOperation))
	// Output:
	// 200 {"data":{"applications":{"totalCount":1,"data":[{"name":"oc-1"}]}}}
	// token requests: 1
}

// NormalizeName shows which names clash in the Director.
func ExampleNormalizeName() {
	for _, name := range []string{"My App", "my-app", "my_app!", "App 2"} {
		fmt.Println(compasstest.NormalizeName(name))
	}
	// Output:
	// mp-my-app
	// mp-my-app
	// mp-my-app
	// mp-app-2
}

// A fault with After stores a registration but answers 502, as a gateway
// that lost the answer would, so a client must find out whether its create
// happened. Count tells how often each operation was called.
func ExampleServer_AddFault() {
	s := compasstest.NewServer()
	defer s.Close()
	s.AddFault("registerApplication", compasstest.Fault{Status: http.StatusBadGateway, After: true, Times: 1})

	token := s.Token(compasstest.DefaultClientID, "application:read", "application:write")
	for _, query := range []string{
		`mutation { registerApplication(in: {name: \"oc-1\"}) { name } }`,
		`{ applications { totalCount } }`,
	} {
		req, _ := http.NewRequest(http.MethodPost, s.GraphQLURL(), strings.NewReader(`{"query":"`+query+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("tenant", compasstest.DefaultTenant)
		res, err := s.HTTPClient().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Println("register calls:", s.Count("registerApplication"), "requests:", s.Requests())
	// Output:
	// 502 Bad Gateway
	// 200 {"data":{"applications":{"totalCount":1}}}
	// register calls: 1 requests: 2
}
