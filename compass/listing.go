package compass

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Page bounds of a listing. The Director's cursors are offsets, so
// applications registered or deleted by others between two pages shift the
// window: a listing may take a page or two more than totalCount promises
// (listingSlack). A listing never reads more than ceil(totalCount /
// PageSize) + listingSlack pages (totalCount being the largest any page
// reported), and never more than ocsync.MaxApplications / PageSize.
const listingSlack = 2

// Applications lists every application whose identity label has this
// Registry's context (and owner, when one is configured), reading all
// pages before it returns. The listing is all or nothing: a malformed page
// or item fails it (the error wraps ErrMalformed and names the page).
// Ownership is checked again on each application: one with another owner
// is listed with Owned false.
func (r *Registry) Applications(ctx context.Context) ([]ocsync.Registered, error) {
	filter := []director.LabelFilter{{Key: r.cfg.Labels.Identity, Query: ptr.To(identityFilter(r.cfg.Scope.Context, r.cfg.Scope.Owner, ""))}}
	items, err := r.list(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := make([]ocsync.Registered, 0, len(items))
	for _, it := range items {
		reg, err := r.registered(it)
		if err != nil {
			return nil, err
		}
		out = append(out, reg)
	}
	slices.SortStableFunc(out, func(a, b ocsync.Registered) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// list reads all pages of an applications query, each checked for the
// shape the schema promises, and bounded as listingSlack says.
func (r *Registry) list(ctx context.Context, filter []director.LabelFilter) ([]*director.ListedApplication, error) {
	var (
		items []*director.ListedApplication
		ids   = map[string]bool{}
		w     = newPager(r.cfg.PageSize)
	)
	for page := 1; ; page++ {
		var resp *director.ListApplicationsResponse
		err := r.call(ctx, "applications", r.query(), func(ctx context.Context) error {
			var err error
			resp, err = director.ListApplications(ctx, r.client, filter, w.size, w.cursor())
			return err
		})
		if err != nil {
			return nil, pageError(page, err)
		}
		p := resp.Applications
		switch {
		case p == nil:
			return nil, pageError(page, malformed("applications", "the page is null"))
		case p.Data == nil:
			return nil, pageError(page, malformed("applications", "data is null"))
		case p.PageInfo == nil:
			return nil, pageError(page, malformed("applications", "pageInfo is null"))
		case p.PageInfo.HasNextPage == nil || p.PageInfo.EndCursor == nil:
			return nil, pageError(page, malformed("applications", "pageInfo lacks hasNextPage or endCursor"))
		case p.TotalCount == nil || *p.TotalCount < 0:
			return nil, pageError(page, malformed("applications", "totalCount is missing or negative"))
		}
		for i, it := range p.Data {
			if it == nil {
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d is null", i)))
			}
			a := &it.ListedApplication
			switch {
			case ptr.Value(a.Id) == "":
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d has no id", i)))
			case ptr.Value(a.Name) == "":
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d has no name", i)))
			case a.Status == nil || a.Status.Condition == nil:
				return nil, pageError(page, malformed("applications", fmt.Sprintf("item %d has no status", i)))
			}
			// Offset pagination repeats a row when the set grows between
			// pages; keep each application once.
			if !ids[*a.Id] {
				ids[*a.Id] = true
				items = append(items, a)
			}
		}
		last, err := w.advance("applications", page, len(items), len(p.Data), *p.TotalCount, *p.PageInfo.HasNextPage, *p.PageInfo.EndCursor)
		if err != nil {
			return nil, pageError(page, err)
		}
		if last {
			return items, nil
		}
	}
}

// pager holds the rules every walk over the Director's cursor pages obeys:
// the answer must end where its totalCount says, a next page needs a new
// cursor, and no walk reads more pages than listingSlack allows.
type pager struct {
	size, ceiling, maxTotal int
	after                   string
	cursors                 map[string]bool
}

func newPager(size int) *pager {
	return &pager{size: size, ceiling: max(ocsync.MaxApplications/size, 1), cursors: map[string]bool{}}
}

// cursor is the after argument of the next page: nil for the first.
func (w *pager) cursor() *string {
	if w.after == "" {
		return nil
	}
	return &w.after
}

// advance checks the page numbered page, which held onPage items (have in
// all so far) and claims total, next and cursor. It reports whether the page
// was the last one; otherwise the next cursor() follows it. A page that
// breaks a rule is a malformed answer of op.
func (w *pager) advance(op string, page, have, onPage, total int, next bool, cursor string) (last bool, err error) {
	w.maxTotal = max(w.maxTotal, total)
	if !next {
		if have < total {
			return true, malformed(op, fmt.Sprintf("the last page leaves %d applications where the Director counts %d", have, total))
		}
		return true, nil
	}
	limit := min(w.ceiling, w.pages()+listingSlack)
	switch {
	case onPage == 0:
		return false, malformed(op, "an empty page claims a next page")
	case cursor == "":
		return false, malformed(op, "a next page is claimed without a cursor")
	case cursor == w.after:
		return false, malformed(op, "the page cursor did not advance")
	case w.cursors[cursor]:
		return false, malformed(op, "the page cursor repeats an earlier one")
	case page >= limit:
		return false, malformed(op, fmt.Sprintf("more than %d pages of %d for %d applications", limit, w.size, w.maxTotal))
	}
	w.cursors[cursor] = true
	w.after = cursor
	return false, nil
}

// pages is how many pages the largest totalCount seen so far takes.
func (w *pager) pages() int { return (w.maxTotal + w.size - 1) / w.size }

// pageError names the page of a failed listing.
func pageError(page int, err error) error {
	return fmt.Errorf("compass: applications page %d: %w", page, err)
}

// registered converts a listed application. Its labels must be an object
// holding an identity label of this Registry's context: the listing's
// filter selected it by that label, so anything else is a malformed answer
// and fails the listing instead of passing as a foreign application.
func (r *Registry) registered(a *director.ListedApplication) (ocsync.Registered, error) {
	labels, ok := decodeLabels(a.Labels)
	if !ok {
		return ocsync.Registered{}, malformed("applications", fmt.Sprintf("application %s: labels are not an object", *a.Id))
	}
	id, ok, canonical := decodeIdentity(labels[r.cfg.Labels.Identity])
	if !ok || id.Context != r.cfg.Scope.Context {
		return ocsync.Registered{}, malformed("applications",
			fmt.Sprintf("application %s was selected by its identity label but carries none of this context", *a.Id))
	}
	reg := ocsync.Registered{
		ID:     *a.Id,
		Name:   *a.Name,
		Key:    id.InstanceID,
		Owned:  id.Owner == r.cfg.Scope.Owner,
		Holder: r.holder(id, true),
		Attributes: ocsync.Attributes{
			Description:  ptr.Value(a.Description),
			ProviderName: ptr.Value(a.ProviderName),
			Status:       ocsync.Status(*a.Status.Condition),
		},
		State: decodeState(labels[r.cfg.Labels.State]),
		// An identity label of an older form is rewritten by the next
		// update, which this makes happen.
		Incomplete: !canonical,
		Ref:        Ref{IdentityCurrent: canonical},
	}
	reg.ReadBack = readBack(reg.Attributes)
	return reg, nil
}

// ownerOf reports whether raw labels (possibly null) mark an application of
// this Registry's scope, its key, and who holds it when it is not owned
// (see holder).
func (r *Registry) ownerOf(raw *json.RawMessage) (key string, owned bool, holder string) {
	labels, _ := decodeLabels(raw)
	id, ok, _ := decodeIdentity(labels[r.cfg.Labels.Identity])
	return id.InstanceID, ok && id.Context == r.cfg.Scope.Context && id.Owner == r.cfg.Scope.Owner, r.holder(id, ok)
}

// maxHolderOwner is how much of another owner's name a conflict quotes:
// the value comes from the Director, so its length is not trusted.
const maxHolderOwner = 100

// holder describes, for a conflict's reason, an application whose identity
// label (id, when ok) names this Registry's Open Connectors host but
// another owner: another job (a shard) syncs the same host under the same
// names, so the two jobs' selections of instances overlap. It is empty for
// any other application, owned or foreign.
func (r *Registry) holder(id Identity, ok bool) string {
	if !ok || id.Context != r.cfg.Scope.Context || id.Owner == r.cfg.Scope.Owner {
		return ""
	}
	who := "of the job without a sync.owner"
	if id.Owner != "" {
		owner := id.Owner
		if len(owner) > maxHolderOwner {
			owner = strings.ToValidUTF8(owner[:maxHolderOwner], "") + "..."
		}
		who = fmt.Sprintf("of sync.owner %q", owner)
	}
	return "an application " + who + " for the same Open Connectors host; the two jobs' selections overlap: " +
		"give each its own applicationPrefix or disjoint tags"
}
