package config_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

func TestNewScrubber(t *testing.T) {
	cfg := &config.Config{
		Compass: compass.Config{ClientID: "client id", ClientSecret: "client-SECRET-&=1"},
		OpenConnectors: openconnectors.Config{
			UserSecret: "user-SECRET-77", OrganizationSecret: "org-SECRET-88",
		},
	}
	s := config.NewScrubber(cfg)
	for _, secret := range []string{
		"client-SECRET-&=1", "user-SECRET-77", "org-SECRET-88",
		"User user-SECRET-77, Organization org-SECRET-88",
		base64.StdEncoding.EncodeToString([]byte("client id:client-SECRET-&=1")),
		base64.StdEncoding.EncodeToString([]byte("client+id:client-SECRET-%26%3D1")),
	} {
		assert.Equal(t, redact.Placeholder, s.Scrub(secret), secret)
	}
	assert.Equal(t, "client id", s.Scrub("client id"), "the client id is no secret")
	require.NotNil(t, config.NewScrubber(nil))
}
