package ocjob_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ocjob "github.com/kyma-incubator/open-connectors-job"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// requests counts what a RequestObserver is told, by remote, method and
// outcome.
type requests struct {
	mu   sync.Mutex
	seen map[string]int
}

func (r *requests) observe(req remote.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]int{}
	}
	r.seen[req.Remote+" "+req.Method+" "+req.Outcome()]++
}

func TestNewGivesTheRequestObserverToBothClients(t *testing.T) {
	platform := octest.NewServer(octest.WithInstances(
		octest.Instance{ID: 101, Name: "crm", Token: "tok-101-secret", Element: octest.Element{ID: 1, Key: "sfdc", Name: "Salesforce"}},
	))
	defer platform.Close()
	platform.AddFault(octest.EndpointInstances, octest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	director := compasstest.NewServer()
	defer director.Close()
	noWait := func(int, time.Duration) time.Duration { return 0 }

	var seen requests
	ctl, err := ocjob.New(ocjob.Config{
		OpenConnectors: openconnectors.Config{Host: platform.URL, Backoff: noWait,
			UserSecret: redact.Secret(platform.UserSecret), OrganizationSecret: redact.Secret(platform.OrganizationSecret)},
		Source: openconnectors.SourceOptions{ApplicationPrefix: "oc"},
		Compass: compass.Config{DirectorURL: director.GraphQLURL(), TokenURL: director.TokenURL(), Tenant: compasstest.DefaultTenant,
			ClientID: compasstest.DefaultClientID, ClientSecret: compasstest.DefaultClientSecret},
		RequestObserver: seen.observe,
	})
	require.NoError(t, err)
	out := ctl.RunOnce(context.Background())
	require.Equal(t, ocsync.ExitOK, out.ExitCode(), out.Err)

	assert.Equal(t, 1, seen.seen["openconnectors GET 5xx"], "the refused attempt")
	assert.GreaterOrEqual(t, seen.seen["openconnectors GET 2xx"], 2, "the listing's retry and the document")
	assert.GreaterOrEqual(t, seen.seen["compass POST 2xx"], 2, "the token and the Director's operations")
	for k := range seen.seen {
		assert.NotContains(t, k, remote.OutcomeError, "no attempt failed without an answer")
	}
}
