package openconnectors

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

const goodItem = `{"id":1,"name":"a","token":"tttt","element":{"id":2,"key":"k","name":"K"},"tags":["x"],"disabled":false,"valid":true,"updatedDate":1}`

func TestStrictItemDecoding(t *testing.T) {
	tests := []struct {
		name, item, want string
	}{
		{"a string", `"just a string"`, "item 1: is a string, want an instance object"},
		{"null", `null`, "item 1: is null, want an instance object"},
		{"a number", `42`, "item 1: is a number, want an instance object"},
		{"an array", `[]`, "item 1: is an array, want an instance object"},
		{"no id", `{"name":"n","token":"t","element":{"key":"k"}}`, "item 1: id: is missing"},
		{"null id", `{"id":null}`, "item 1: id: is missing"},
		{"fractional id", `{"id":1.5}`, "item 1: id: has a fraction or an exponent, want a positive integer"},
		{"id with an exponent", `{"id":1e30}`, "item 1: id: has a fraction or an exponent"},
		{"integral id with an exponent", `{"id":2E1}`, "item 1: id: has a fraction or an exponent"},
		{"negative id", `{"id":-3}`, "item 1: id: is negative"},
		{"zero id", `{"id":0}`, "item 1: id: is zero"},
		{"huge id", `{"id":9223372036854775808}`, "item 1: id: is larger than the int64 range"},
		{"huge id as a string", `{"id":"99999999999999999999999"}`, "item 1: id: is larger than the int64 range"},
		{"id not a number", `{"id":"abc"}`, "item 1: id: is not a number in decimal digits"},
		{"id with a sign", `{"id":"+7"}`, "item 1: id: is not a number in decimal digits"},
		{"id with a leading zero", `{"id":"07"}`, "item 1: id: has a leading zero"},
		{"empty id", `{"id":""}`, "item 1: id: is empty"},
		{"id an object", `{"id":{"v":1}}`, "item 1: id: is an object, want an integer"},
		{"id a boolean", `{"id":true}`, "item 1: id: is a boolean, want an integer"},
		{"name a number", `{"id":2,"name":5}`, "item 1: instance 2: name: is a number, want a string"},
		{"token an object", `{"id":2,"token":{}}`, "item 1: instance 2: token: is an object, want a string"},
		{"token a number", `{"id":2,"token":12345678}`, "item 1: instance 2: token: is a number, want a string"},
		{"element a string", `{"id":2,"element":"sfdc"}`, "item 1: instance 2: element: is a string, want an object"},
		{"element an array", `{"id":2,"element":[]}`, "item 1: instance 2: element: is an array, want an object"},
		{"element key a number", `{"id":2,"element":{"key":1}}`, "item 1: instance 2: element.key: is a number, want a string"},
		{"element name a boolean", `{"id":2,"element":{"name":false}}`, "item 1: instance 2: element.name: is a boolean, want a string"},
		{"element id negative", `{"id":2,"element":{"id":-1}}`, "item 1: instance 2: element.id: is negative, want a non-negative integer"},
		{"tags a string", `{"id":2,"tags":"a,b"}`, "item 1: instance 2: tags: is a string, want an array"},
		{"tags an object", `{"id":2,"tags":{"a":1}}`, "item 1: instance 2: tags: is an object, want an array"},
		{"a null tag", `{"id":2,"tags":["a",null]}`, "item 1: instance 2: tags: [1] is null, want a string or an object {id, name}"},
		{"a number tag", `{"id":2,"tags":[3]}`, "item 1: instance 2: tags: [0] is a number"},
		{"a tag object without a name", `{"id":2,"tags":[{"id":1}]}`, "item 1: instance 2: tags: [0]: a tag object's name is absent, want a string"},
		{"a tag object with a number name", `{"id":2,"tags":[{"id":1,"name":7}]}`, "item 1: instance 2: tags: [0]: a tag object's name is a number"},
		{"a tag object with an object id", `{"id":2,"tags":[{"id":{},"name":"x"}]}`, "item 1: instance 2: tags: [0]: a tag object's id is an object"},
		{"disabled a string", `{"id":2,"disabled":"true"}`, "item 1: instance 2: disabled: is a string, want a boolean"},
		{"valid a number", `{"id":2,"valid":1}`, "item 1: instance 2: valid: is a number, want a boolean"},
		{"updatedDate an object", `{"id":2,"updatedDate":{}}`, "item 1: instance 2: updatedDate: is an object, want a number or a string"},
		{"updatedDate a boolean", `{"id":2,"updatedDate":true}`, "item 1: instance 2: updatedDate: is a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.srv.AddFault(octest.EndpointInstances, octest.Fault{Body: []byte("[" + goodItem + "," + tt.item + "]")})
			got, err := f.c.Instances(t.Context())
			require.Error(t, err)
			assert.Nil(t, got, "nothing is dropped and nothing is partial")
			assert.Contains(t, err.Error(), "list instances: page 1: GET /instances: "+tt.want)
			assert.NotErrorIs(t, err, remote.ErrRetryable)
			assert.Equal(t, 1, f.srv.Count(octest.EndpointInstances), "a malformed page is not retried")
		})
	}
}

func TestUnknownFieldsAreIgnored(t *testing.T) {
	items, err := decodePage([]byte(`[{"id":3,"name":"n","extra":{"deep":[1,{"x":null}]},"element":{"key":"k","hub":"crm","id":"12"},"user":{"id":1}}]`))
	require.NoError(t, err)
	assert.Equal(t, []Instance{{ID: 3, Name: "n", Element: Element{ID: 12, Key: "k"}, Valid: true}}, items)
}

func TestDuplicateIDs(t *testing.T) {
	t.Run("identical objects are listed once", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(5)...))
		// Page 2 repeats the last instance of page 1 with its fields in
		// another order (and replaces instance 4).
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 1})
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 1, Body: []byte(`[
			{"token":"tok/2+x=","id":2,"name":"instance 2","element":{"id":23,"key":"sfdc","name":"Salesforce"},"valid":true},
			{"id":3,"name":"instance 3","token":"tok/3+x=","element":{"id":23,"key":"sfdc","name":"Salesforce"}}]`)})
		got, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 2, 3, 5}, ids(got))
	})
	t.Run("differing objects with one id fail the listing", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(4)...))
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 1})
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Times: 1, Body: []byte(`[
			{"id":2,"name":"renamed","token":"tok/2+x=","element":{"id":23,"key":"sfdc","name":"Salesforce"}}]`)})
		got, err := f.c.Instances(t.Context())
		require.Error(t, err)
		assert.Nil(t, got)
		assert.Contains(t, err.Error(), "page 2")
		assert.Contains(t, err.Error(), "instance 2 is listed twice with different values")
	})
	t.Run("within one page", func(t *testing.T) {
		f := newFixture(t, nil)
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Body: []byte(`[{"id":5,"name":"a"},{"id":5,"name":"b"}]`)})
		_, err := f.c.Instances(t.Context())
		require.ErrorContains(t, err, "instance 5 is listed twice")
	})
}

func TestCursorBounds(t *testing.T) {
	cursor := func(v string) http.Header { return http.Header{"Elements-Next-Page-Token": {v}} }
	// page answers a whole listing page with instance id and cursor next.
	page := func(id int, h http.Header) octest.Fault {
		return octest.Fault{Status: http.StatusOK, Body: []byte(fmt.Sprintf(`[{"id":%d}]`, id)), Header: h, Times: 1}
	}
	tests := []struct {
		name   string
		faults []octest.Fault
		want   string
		calls  int
	}{
		{"a cursor cycle", []octest.Fault{page(1, cursor("A")), page(2, cursor("B")), page(3, cursor("A"))},
			"page 3: GET /instances: the server returned to a page cursor seen before", 3},
		{"a repeated cursor", []octest.Fault{page(1, cursor("A")), page(2, cursor("A"))},
			"page 2: GET /instances: the server repeated a page cursor", 2},
		{"an empty page naming a next page", []octest.Fault{
			page(1, cursor("A")), {Status: http.StatusOK, Body: []byte(" [ ] "), Header: cursor("B"), Times: 1},
		}, "page 2: GET /instances: a page without instances names a next page", 2},
		{"a cursor that is too long", []octest.Fault{page(1, cursor(strings.Repeat("c", MaxCursorBytes+1)))},
			"page 1: GET /instances: the next-page cursor is longer than 4096 bytes", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(2)...))
			for _, fl := range tt.faults {
				f.srv.AddFault(octest.EndpointInstances, fl)
			}
			got, err := f.c.Instances(t.Context())
			require.Error(t, err)
			assert.Nil(t, got)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.calls, f.srv.Count(octest.EndpointInstances))
		})
	}
	t.Run("a cursor of exactly the limit is followed", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(2)...))
		f.srv.AddFault(octest.EndpointInstances, page(1, cursor(strings.Repeat("c", MaxCursorBytes))))
		f.srv.AddFault(octest.EndpointInstances, page(2, nil))
		got, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 2}, ids(got))
		assert.Equal(t, strings.Repeat("c", MaxCursorBytes), f.srv.LastQuery(octest.EndpointInstances).Get("nextPage"))
	})
	t.Run("an unusable total count is ignored", func(t *testing.T) {
		for _, total := range []string{"-1", "x", "1.5", "100000000", ""} {
			f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(9)...))
			f.srv.AddFault(octest.EndpointInstances, octest.Fault{Header: http.Header{"Elements-Total-Count": {total}}})
			got, err := f.c.Instances(t.Context())
			require.NoError(t, err, total)
			assert.Len(t, got, 9, total)
		}
	})
	t.Run("a true total count leaves room for the slack", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithTotalCount(), octest.WithInstances(instances(5)...))
		f.srv.Put(instances(9)[5:]...) // four more arrive while listing
		got, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Len(t, got, 9)
		assert.NotContains(t, f.logs.String(), "level=WARN")
	})
	t.Run("a misleading total count does not bound the listing", func(t *testing.T) {
		// The platform's use of the header on /instances is not documented:
		// here it carries the count of one page. Nine instances take five
		// pages, more than ceil(2/2) + PageSlack.
		f := newFixture(t, func(c *Config) { c.PageSize = 2 }, octest.WithInstances(instances(9)...))
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Header: http.Header{"Elements-Total-Count": {"2"}}})
		got, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, ids(got))
		assert.Equal(t, 5, f.srv.Count(octest.EndpointInstances))
		logs := f.logs.String()
		assert.Equal(t, 1, strings.Count(logs, "level=WARN"), "one warning per listing: %s", logs)
		assert.Contains(t, logs, "Elements-Total-Count")
		assert.Contains(t, logs, "total=2")
	})
	t.Run("a total count of the default page size on a large tenant", func(t *testing.T) {
		f := newFixture(t, nil, octest.WithInstances(instances(4*DefaultPageSize+1)...))
		f.srv.AddFault(octest.EndpointInstances, octest.Fault{Header: http.Header{"Elements-Total-Count": {strconv.Itoa(DefaultPageSize)}}})
		got, err := f.c.Instances(t.Context())
		require.NoError(t, err)
		assert.Len(t, got, 4*DefaultPageSize+1)
		assert.Equal(t, 5, f.srv.Count(octest.EndpointInstances))
	})
}

// endless is a platform that always names a next page, with perPage new
// instances on each.
func endless(t *testing.T, perPage int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p := pages.Add(1)
		items := make([]json.RawMessage, perPage)
		for i := range items {
			items[i] = json.RawMessage(fmt.Sprintf(`{"id":%d}`, (p-1)*int64(perPage)+int64(i)+1))
		}
		body, _ := json.Marshal(items)
		w.Header().Set("Elements-Next-Page-Token", "after-"+strconv.FormatInt(p, 10))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &pages
}

func TestAbsolutePageCeiling(t *testing.T) {
	srv, pages := endless(t, 1)
	c, err := NewClient(Config{Host: srv.URL, UserSecret: "user", OrganizationSecret: "org1"})
	require.NoError(t, err)
	got, err := c.Instances(t.Context())
	require.Error(t, err)
	assert.Nil(t, got)
	ceiling := ocsync.MaxApplications / DefaultPageSize
	assert.Contains(t, err.Error(), fmt.Sprintf("page %d: GET /instances: more than %d pages of 200 instances", ceiling+1, ceiling))
	assert.Equal(t, int64(ceiling), pages.Load())
}

func TestInstanceCeiling(t *testing.T) {
	// A platform that sends more than it was asked for per page still
	// cannot list more than ocsync.MaxApplications instances.
	srv, pages := endless(t, 5000)
	c, err := NewClient(Config{Host: srv.URL, UserSecret: "user", OrganizationSecret: "org1"})
	require.NoError(t, err)
	got, err := c.Instances(t.Context())
	require.Error(t, err)
	assert.Nil(t, got)
	assert.Contains(t, err.Error(), fmt.Sprintf("page 21: GET /instances: more than %d instances", ocsync.MaxApplications))
	assert.Equal(t, int64(21), pages.Load())
}
