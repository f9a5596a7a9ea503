package compass

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/ocsynctest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// TestListingMalformedPages: a malformed page fails the whole listing,
// naming the page and what was wrong, and the engine reports a failed
// listing before any change.
func TestListingMalformedPages(t *testing.T) {
	tests := []struct {
		name string
		kind compasstest.Malformation
		want string
	}{
		{"data null", compasstest.DataNull, "the page is null"},
		{"applications null", compasstest.FieldNull, "the page is null"},
		{"items null", compasstest.ItemsNull, "data is null"},
		{"null item", compasstest.NullItem, "item 1 is null"},
		{"item without id", compasstest.MissingID, "item 0 has no id"},
		{"page info null", compasstest.PageInfoNull, "pageInfo is null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			reg := newRegistry(t, testConfig(srv))
			app := desired("1")
			spec := testSpec(`{}`)
			require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))

			srv.AddFault("applications", compasstest.Fault{Malformed: tt.kind, Times: 1})
			regs, err := reg.Applications(t.Context())
			require.Error(t, err)
			assert.Nil(t, regs)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.False(t, remote.Retryable(err), "a malformed answer is not tried again")
			assert.Contains(t, err.Error(), "applications page 1")
			assert.Contains(t, err.Error(), tt.want)

			// Through the engine: a failed listing, nothing changed.
			srv.AddFault("applications", compasstest.Fault{Malformed: tt.kind, Times: 1})
			src := ocsynctest.NewSource()
			engine := &ocsync.Engine{Source: src, Registry: reg}
			plan, err := engine.Plan(t.Context())
			assert.Nil(t, plan)
			assert.ErrorIs(t, err, ocsync.ErrListFailed)
			stored := srv.Applications(compasstest.DefaultTenant)
			assert.Len(t, stored, 1, "the owned application is still there")
		})
	}
}

// TestListingEndlessCursor: a Director that claims a next page forever,
// with a new cursor each time, is stopped at ceil(total/size) + slack.
func TestListingEndlessCursor(t *testing.T) {
	srv := newServer(t)
	cfg := testConfig(srv)
	cfg.PageSize = 2
	reg := newRegistry(t, cfg)
	spec := testSpec(`{}`)
	for _, id := range []string{"1", "2", "3"} {
		app := desired(id)
		require.NoError(t, reg.Create(t.Context(), app, spec, stateOf(app, spec)))
	}
	srv.ResetCounts()
	srv.AddFault("applications", compasstest.Fault{Malformed: compasstest.EndlessCursor, Times: 1000})
	_, err := reg.Applications(t.Context())
	require.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "more than 4 pages")
	assert.Equal(t, 2+listingSlack, srv.Count("applications"), "ceil(3/2) pages and the slack, no more")
}

// TestListingCursorRules drives the listing with hand-written pages.
func TestListingCursorRules(t *testing.T) {
	c := func(n int) string { return fmt.Sprintf("cursor-%d", n) }
	tests := []struct {
		name     string
		pageSize int
		page     func(n int) string
		want     string
		wantIDs  []string
		maxCalls int
	}{
		{"repeated end cursor", 1, func(n int) string { return pageJSON(3, true, c(1), listedJSON(fmt.Sprint(n))) },
			"did not advance", nil, 2},
		{"a cursor seen before", 1, func(n int) string {
			return pageJSON(5, true, c(map[int]int{1: 1, 2: 2, 3: 1}[n]), listedJSON(fmt.Sprint(n)))
		}, "repeats an earlier one", nil, 3},
		{"empty page claiming more", 2, func(n int) string {
			if n == 1 {
				return pageJSON(4, true, c(1), listedJSON("1"), listedJSON("2"))
			}
			return pageJSON(4, true, c(n))
		}, "an empty page claims a next page", nil, 2},
		{"next page without cursor", 1, func(int) string { return pageJSON(2, true, "", listedJSON("1")) },
			"without a cursor", nil, 1},
		{"more pages than the total allows", 1, func(n int) string { return pageJSON(3, true, c(n), listedJSON(fmt.Sprint(n))) },
			"more than 5 pages", nil, 5},
		{"absolute ceiling", MaxPageSize, func(n int) string {
			return pageJSON(1_000_000_000, true, c(n), listedJSON(fmt.Sprint(n)))
		}, fmt.Sprintf("more than %d pages", ocsync.MaxApplications/MaxPageSize), nil, ocsync.MaxApplications / MaxPageSize},
		{"last page short of the total", 2, func(n int) string {
			if n == 1 {
				return pageJSON(4, true, c(1), listedJSON("1"), listedJSON("2"))
			}
			return pageJSON(4, false, "", listedJSON("3"))
		}, "leaves 3 applications where the Director counts 4", nil, 2},
		{"item without name on page 2", 1, func(n int) string {
			if n == 1 {
				return pageJSON(2, true, c(1), listedJSON("1"))
			}
			return pageJSON(2, false, "", `{"id":"2","status":{"condition":"CONNECTED"},"labels":{}}`)
		}, "applications page 2: compass: applications: MalformedAnswer: item 0 has no name", nil, 2},
		{"item of another context", 1, func(int) string {
			return pageJSON(1, false, "", `{"id":"9","name":"x","status":{"condition":"CONNECTED"},"labels":{"open_connectors":{"connectorInstanceContext":"elsewhere"}}}`)
		}, "carries none of this context", nil, 1},
		{"labels not an object", 1, func(int) string {
			return pageJSON(1, false, "", `{"id":"9","name":"x","status":{"condition":"CONNECTED"},"labels":null}`)
		}, "labels are not an object", nil, 1},
		{"shifted window repeats an application", 2, func(n int) string {
			if n == 1 {
				return pageJSON(3, true, c(1), listedJSON("1"), listedJSON("2"))
			}
			return pageJSON(3, false, "", listedJSON("2"), listedJSON("3"))
		}, "", []string{"1", "2", "3"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newScripted(t, func(op string, n int, _ map[string]any) string {
				if op != "ListApplications" || n > 100_000 {
					return `{"errors":[{"message":"unexpected"}]}`
				}
				return tt.page(n)
			})
			regs, err := d.registry(t, tt.pageSize).Applications(t.Context())
			assert.LessOrEqual(t, d.calls("ListApplications"), tt.maxCalls)
			if tt.want == "" {
				require.NoError(t, err)
				var ids []string
				for _, r := range regs {
					ids = append(ids, r.ID)
				}
				assert.Equal(t, tt.wantIDs, ids)
				return
			}
			require.Error(t, err)
			assert.Nil(t, regs)
			assert.True(t, errors.Is(err, ErrMalformed), "%v", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.maxCalls, d.calls("ListApplications"))
		})
	}
}
