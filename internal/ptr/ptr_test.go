package ptr_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
)

func TestPointers(t *testing.T) {
	p := ptr.To(42)
	assert.Equal(t, 42, *p)
	assert.Nil(t, ptr.NonEmpty(""))
	assert.Equal(t, "x", *ptr.NonEmpty("x"))
	assert.Equal(t, "", ptr.Value[string](nil))
	assert.Equal(t, "y", ptr.Value(ptr.To("y")))
}
