package compasstest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

// seedMany stores n applications with a spec of specBytes bytes each.
func seedMany(b *testing.B, s *compasstest.Server, n, specBytes int) {
	spec := `{"swagger":"2.0","x":"` + strings.Repeat("a", specBytes) + `"}`
	for i := range n {
		_, err := s.Seed(compasstest.DefaultTenant, compasstest.Application{
			Name: fmt.Sprintf("oc-%d", i),
			Labels: map[string]any{"open_connectors": map[string]any{
				"connectorInstanceContext": "host", "connectorInstanceID": fmt.Sprint(i),
			}},
			Bundles: []compasstest.Bundle{{Name: "b", APIs: []compasstest.API{{Name: "a", TargetURL: "https://h", SpecType: "OPEN_API", SpecFormat: "JSON", Spec: spec}}}},
		})
		require.NoError(b, err)
	}
}

// BenchmarkListAll lists 10 000 applications (100 KB specs, not requested)
// page by page with the identity filter.
func BenchmarkListAll(b *testing.B) {
	s := compasstest.NewServer()
	defer s.Close()
	seedMany(b, s, 10000, 100<<10)
	filter := []map[string]any{{"key": "open_connectors", "query": `{"connectorInstanceContext":"host"}`}}
	token := s.Token(compasstest.DefaultClientID, rw...)
	b.ResetTimer()
	for b.Loop() {
		after, n := "", 0
		for {
			r := call(b, s, token, compasstest.DefaultTenant, pageQuery, map[string]any{"f": filter, "first": 200, "after": after})
			p := decode[pageOut](b, r.Data["applications"])
			n += len(p.Data)
			if !p.PageInfo.HasNextPage {
				break
			}
			after = p.PageInfo.EndCursor
		}
		if n != 10000 {
			b.Fatalf("listed %d applications", n)
		}
	}
}

// BenchmarkRegister registers applications with a 100 KB spec each.
func BenchmarkRegister(b *testing.B) {
	s := compasstest.NewServer()
	defer s.Close()
	token := s.Token(compasstest.DefaultClientID, rw...)
	spec := `{"swagger":"2.0","x":"` + strings.Repeat("a", 100<<10) + `"}`
	i := 0
	for b.Loop() {
		in := registerInput(fmt.Sprintf("r-%d", i), nil)
		in["bundles"].([]any)[0].(map[string]any)["apiDefinitions"].([]any)[0].(map[string]any)["spec"].(map[string]any)["data"] = spec
		i++
		r := call(b, s, token, compasstest.DefaultTenant, `mutation($in: ApplicationRegisterInput!) { registerApplication(in: $in) { id } }`, map[string]any{"in": in})
		if len(r.Errors) > 0 {
			b.Fatal(r.Raw)
		}
	}
}
