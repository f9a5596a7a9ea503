package openconnectors

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestValidateSpecMembers covers how top-level values are read: only
// objects count as objects, only strings carry a version, keys match as
// encoding/json matches them, and the last duplicate wins.
func TestValidateSpecMembers(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"info null", `{"swagger":"2.0","info":null,"paths":{}}`, `without an "info" object`},
		{"info a string", `{"swagger":"2.0","info":"{}","paths":{}}`, `without an "info" object`},
		{"paths an array", `{"swagger":"2.0","info":{},"paths":[]}`, `without a "paths" object`},
		{"version a number", `{"swagger":2.0,"info":{},"paths":{}}`, "neither a Swagger 2.0 nor an OpenAPI 3 document"},
		{"escaped key", `{"\u0073wagger":"2.0","info":{},"paths":{}}`, ""},
		{"key in another case", `{"Swagger":"2.0","Info":{},"PATHS":{}}`, ""},
		{"last duplicate wins", `{"swagger":"1.2","swagger":"2.0","info":{},"paths":{}}`, ""},
		{"last duplicate wins against", `{"swagger":"2.0","info":{},"paths":{},"paths":null}`, `without a "paths" object`},
		{"whitespace around values", " {\n \"openapi\" : \"3.1.0\" ,\t\"info\" :\n{ } , \"components\" : { } }\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSpec([]byte(tt.doc))
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tt.wantErr)
			}
		})
	}
}
