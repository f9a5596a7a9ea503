package octest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// The fake answers like the platform: here an injected 429 with Retry-After,
// then the normal answer, with request counters for assertions.
func ExampleServer_AddFault() {
	srv := octest.NewServer(octest.WithInstances(octest.Instance{ID: 1, Name: "crm", Token: "t", Element: octest.Element{Key: "sfdc"}}))
	defer srv.Close()
	srv.AddFault(octest.EndpointInstances, octest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2", Times: 1})

	for range 2 {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/elements/api-v2/instances", nil)
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Authorization", "User "+srv.UserSecret+", Organization "+srv.OrganizationSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), len(body) > 0)
	}
	fmt.Println(srv.Count(octest.EndpointInstances), "requests")
	// Output:
	// 429 2 true
	// 200  true
	// 2 requests
}
