package redact_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretNeverPrints(t *testing.T) {
	s := redact.Secret("User u, Organization o, Element t0k+/=")
	a := struct {
		Name       string
		Credential redact.Secret
	}{Name: "oc-1", Credential: s}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, a, a, s, s)} {
		assert.NotContains(t, out, "t0k")
	}
	b, err := json.Marshal(struct{ S redact.Secret }{s})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "t0k")
	assert.Equal(t, "User u, Organization o, Element t0k+/=", s.Reveal())
}
