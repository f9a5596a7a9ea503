package octest

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpecFunc(t *testing.T) {
	calls := map[int64]int{}
	gen := func(id int64) []byte {
		calls[id]++
		return SwaggerDocument("generated-"+strconv.FormatInt(id, 10), int(id)*1000)
	}
	fixed := []byte(`{"swagger":"2.0","info":{"title":"own"},"paths":{}}`)
	def := []byte(`{"swagger":"2.0","info":{"title":"default"},"paths":{}}`)
	tests := []struct {
		name  string
		opts  []Option
		setup func(s *Server)
		id    int64
		want  []byte
		calls int
	}{
		{"option generates", []Option{WithSpecFunc(gen)}, nil, 2, SwaggerDocument("generated-2", 2000), 1},
		{"method generates", nil, func(s *Server) { s.SetSpecFunc(gen) }, 3, SwaggerDocument("generated-3", 3000), 1},
		{"generator wins over the default spec", []Option{WithDefaultSpec(def), WithSpecFunc(gen)}, nil, 1, SwaggerDocument("generated-1", 1000), 1},
		{"own spec wins over the generator", []Option{WithSpecFunc(gen)}, func(s *Server) { s.SetSpec(2, fixed) }, 2, fixed, 0},
		{"nil turns it off", []Option{WithDefaultSpec(def), WithSpecFunc(gen)}, func(s *Server) { s.SetSpecFunc(nil) }, 2, def, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clear(calls)
			s := NewServer(append(tt.opts, WithInstances(seq(3)...))...)
			defer s.Close()
			if tt.setup != nil {
				tt.setup(s)
			}
			for range 2 {
				resp, body := get(t, s, "/instances/"+strconv.FormatInt(tt.id, 10)+"/docs", nil, nil)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, tt.want, body)
				assert.Equal(t, strconv.Itoa(len(tt.want)), resp.Header.Get("Content-Length"))
			}
			assert.Equal(t, 2*tt.calls, calls[tt.id], "the document is made on each request, not kept")
			resp, _ := get(t, s, "/instances/99/docs", nil, nil)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "unknown instances get no generated document")
			assert.Zero(t, calls[99])
		})
	}
}
