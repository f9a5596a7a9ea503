package metrics_test

import (
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// pushgateway is a Pushgateway for tests: it decodes every push (protobuf or
// text) with expfmt and keeps the metric families per grouping key the way
// the Pushgateway does: PUT replaces the group, POST replaces the families
// it carries, DELETE removes the group.
type pushgateway struct {
	*httptest.Server

	mu       sync.Mutex
	status   int    // answer to every push; 0 means 200
	body     string // body of the answer
	requests []pushRequest
	groups   map[string]map[string]*dto.MetricFamily
}

type pushRequest struct {
	method, path, contentType string
	authorization             string // the Authorization header
	group                     string // the decoded grouping key, "job=ocjob,owner=a"
	families                  map[string]*dto.MetricFamily
}

func newPushgateway(t *testing.T) *pushgateway {
	t.Helper()
	pg := &pushgateway{groups: map[string]map[string]*dto.MetricFamily{}}
	pg.Server = httptest.NewServer(http.HandlerFunc(pg.serve))
	t.Cleanup(pg.Close)
	return pg
}

// newTLSPushgateway is a pushgateway served over TLS with a certificate of
// its own authority (pg.Certificate()).
func newTLSPushgateway(t *testing.T) *pushgateway {
	t.Helper()
	pg := &pushgateway{groups: map[string]map[string]*dto.MetricFamily{}}
	pg.Server = httptest.NewUnstartedServer(http.HandlerFunc(pg.serve))
	pg.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the tests' point
	pg.StartTLS()
	t.Cleanup(pg.Close)
	return pg
}

func (pg *pushgateway) serve(w http.ResponseWriter, r *http.Request) {
	group, err := groupingKey(r.URL.EscapedPath())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := pushRequest{method: r.Method, path: r.URL.EscapedPath(), contentType: r.Header.Get("Content-Type"), group: group,
		authorization: r.Header.Get("Authorization"),
		families:      map[string]*dto.MetricFamily{}}
	if r.Method != http.MethodDelete {
		dec := expfmt.NewDecoder(io.LimitReader(r.Body, 1<<20), expfmt.ResponseFormat(r.Header))
		for {
			mf := &dto.MetricFamily{}
			err := dec.Decode(mf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req.families[mf.GetName()] = mf
		}
	}
	pg.mu.Lock()
	defer pg.mu.Unlock()
	pg.requests = append(pg.requests, req)
	status := pg.status
	if status == 0 {
		status = http.StatusOK
	}
	if status/100 == 2 {
		switch r.Method {
		case http.MethodPut:
			pg.groups[group] = req.families
		case http.MethodPost:
			if pg.groups[group] == nil {
				pg.groups[group] = map[string]*dto.MetricFamily{}
			}
			for name, mf := range req.families {
				pg.groups[group][name] = mf
			}
		case http.MethodDelete:
			delete(pg.groups, group)
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, pg.body)
}

// groupingKey decodes /metrics/job/<job>{/<label>[@base64]/<value>} into
// "job=<job>,<label>=<value>..." with the labels after job sorted by name:
// the Pushgateway's groups are label sets, whatever the order in the path.
func groupingKey(path string) (string, error) {
	rest, ok := strings.CutPrefix(path, "/metrics/")
	if !ok {
		return "", errors.New("not a push path")
	}
	parts := strings.Split(rest, "/")
	if len(parts)%2 != 0 || len(parts) < 2 || strings.TrimSuffix(parts[0], "@base64") != "job" {
		return "", errors.New("malformed grouping key")
	}
	var pairs []string
	for i := 0; i < len(parts); i += 2 {
		name, value := parts[i], parts[i+1]
		if n, ok := strings.CutSuffix(name, "@base64"); ok {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
			if err != nil {
				return "", err
			}
			name, value = n, string(b)
		} else if v, err := url.QueryUnescape(value); err == nil {
			value = v
		} else {
			return "", err
		}
		pairs = append(pairs, name+"="+value)
	}
	slices.Sort(pairs[1:])
	return strings.Join(pairs, ","), nil
}

func (pg *pushgateway) setStatus(status int, body string) {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	pg.status, pg.body = status, body
}

func (pg *pushgateway) pushes() []pushRequest {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return slices.Clone(pg.requests)
}

// value returns the sample of family name in group whose labels are
// labels (name, value pairs), and whether there is one.
func (pg *pushgateway) value(group, name string, labels ...string) (float64, bool) {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return sample(pg.groups[group][name], labels...)
}

// sample returns the value of the metric of mf whose labels are exactly
// labels (name, value pairs).
func sample(mf *dto.MetricFamily, labels ...string) (float64, bool) {
	if mf == nil {
		return 0, false
	}
	want := model.LabelSet{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	for _, m := range mf.GetMetric() {
		got := model.LabelSet{}
		for _, l := range m.GetLabel() {
			got[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
		}
		if !got.Equal(want) {
			continue
		}
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}
