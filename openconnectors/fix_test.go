package openconnectors

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

const nginx502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n" +
	"<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"

// TestListingErrorsSayWhatToFix checks that a listing failure a
// configuration value typically causes names the Config fields to check,
// that a page is summarised and never quoted, and that no secret appears.
func TestListingErrorsSayWhatToFix(t *testing.T) {
	const wrongSecret = "not-the-user-secret"
	login := []byte("<!DOCTYPE html><html><head><title>SAP &amp; Co: Log On</title></head><body>" + wrongSecret + "</body></html>")
	tests := []struct {
		name     string
		mutate   func(*Config)
		fault    *octest.Fault
		want     []string
		fields   []string
		fatal    bool
		attempts int
	}{
		{
			name:     "a refused user secret",
			mutate:   func(c *Config) { c.UserSecret = wrongSecret },
			want:     []string{"GET /instances: 401 Unauthorized", "check UserSecret and OrganizationSecret (openconnectors.Config)"},
			fields:   []string{"UserSecret", "OrganizationSecret"},
			fatal:    true,
			attempts: 1,
		},
		{
			name:     "a refusal with 403",
			fault:    &octest.Fault{Status: http.StatusForbidden},
			want:     []string{"GET /instances: 403 Forbidden", "check UserSecret and OrganizationSecret"},
			fields:   []string{"UserSecret", "OrganizationSecret"},
			fatal:    true,
			attempts: 1,
		},
		{
			name:     "a host that answers a login page",
			fault:    &octest.Fault{Body: login},
			want:     []string{`GET /instances: 200 OK: answered an HTML page titled "SAP & Co: Log On"`, "check Host (openconnectors.Config)"},
			fields:   []string{"Host"},
			attempts: 1,
		},
		{
			name:     "a proxy's error page is summarised and retried",
			fault:    &octest.Fault{Status: http.StatusBadGateway, Body: []byte(nginx502)},
			want:     []string{`GET /instances: 502 Bad Gateway: answered an HTML page titled "502 Bad Gateway" [requestId`, "after 4 attempts"},
			attempts: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.mutate, octest.WithInstances(instances(2)...))
			if tt.fault != nil {
				f.srv.AddFault(octest.EndpointInstances, *tt.fault)
			}
			_, err := f.c.Instances(t.Context())
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			var ce *remote.ConfigError
			if tt.fields == nil {
				assert.False(t, errors.As(err, &ce), "no field to check")
			} else if assert.ErrorAs(t, err, &ce) {
				assert.Equal(t, tt.fields, ce.Fields)
			}
			assert.Equal(t, tt.fatal, errors.Is(err, ocsync.ErrFatal), "fatal")
			assert.Equal(t, tt.attempts, f.srv.Count(octest.EndpointInstances))
			assert.NotContains(t, err.Error(), "nginx/1.25.3", "a page is never quoted")
			assert.NotContains(t, err.Error(), "<", "no markup")
			for _, s := range []string{wrongSecret, f.srv.UserSecret, f.srv.OrganizationSecret} {
				assert.NotContains(t, err.Error(), s)
				assert.NotContains(t, f.logs.String(), s)
			}
			assert.NotContains(t, f.logs.String(), redact.Placeholder+redact.Placeholder)
		})
	}
}
