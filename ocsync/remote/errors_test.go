package remote

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConfigError(t *testing.T) {
	creds := &ConfigError{Config: "compass", Fields: []string{"ClientID", "ClientSecret", "TokenURL"}}
	host := &ConfigError{Config: "openconnectors", Fields: []string{"Host"}}
	assert.Equal(t, "check ClientID, ClientSecret and TokenURL (compass.Config)", creds.Error())
	assert.Equal(t, "check Host (openconnectors.Config)", host.Error())
	assert.Equal(t, "check the compass configuration", (&ConfigError{Config: "compass"}).Check(nil))

	err := errors.Join(fmt.Errorf("list registry: token refused; %w", creds), fmt.Errorf("list source: page; %w", host))
	keys := map[string]string{"ClientID": "compass.clientID", "ClientSecret": "compass.clientSecret", "TokenURL": "compass.tokenUrl"}
	name := func(config, field string) string {
		if config != "compass" {
			return ""
		}
		return keys[field]
	}
	assert.Equal(t, []string{"check compass.clientID, compass.clientSecret and compass.tokenUrl", "check Host"}, Advice(err, name))
	explained := Explain(err, name)
	assert.EqualError(t, explained, "list registry: token refused; check compass.clientID, compass.clientSecret and compass.tokenUrl\n"+
		"list source: page; check Host")
	assert.ErrorIs(t, explained, creds, "the chain is kept")
	assert.Empty(t, Advice(errors.New("plain"), name))
	plain := errors.New("plain")
	assert.Same(t, plain, Explain(plain, name))
	assert.NoError(t, Explain(nil, name))
}
