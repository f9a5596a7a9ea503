package compass

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/compass/internal/director"
	"github.com/kyma-incubator/open-connectors-job/internal/ptr"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"golang.org/x/sync/errgroup"
)

// TakenBatch is how many names one Taken request looks up (the aliases of
// the TakenNames operation). It is also what counts as few names: up to
// TakenBatch names are looked up one by one.
const TakenBatch = 20

// TakenConcurrency is how many Taken requests run at once: few, since the
// Director's database pool is small (five connections by default).
const TakenConcurrency = 4

// TakenShare bounds what Taken costs the Director for many names: at most
// one page of the tenant's names per TakenShare names, that is 5 % of the
// registrations those names become, plus one look-up per name found taken.
const TakenShare = 20

// Taken finds the applications whose names clash (under NormalizeName)
// with any of names, so that the plan makes a conflict of a clash instead
// of downloading a document for a register the Director refuses. Each
// match is returned with Owned false unless it carries this Registry's
// identity, and with Holder set when it belongs to another sync of the same
// Open Connectors host. A malformed answer fails the look-up.
//
// The Director runs every aliased look-up by name as a label-filtered
// listing of its own, about as much database work as a registration, so
// looking up every name would double the work of a run that creates many,
// for a clash that is rare. Taken therefore spends at most a small share of
// what the creates cost:
//
//   - Few names (at most TakenBatch): one request, one look-up per name
//     (the Director's own "name" label holds NormalizeName of the name).
//     Every run after the one that met a clash is such a run: the clash is
//     then one of few creates (the others were created), so it is a
//     conflict in the plan and in the dry run, and costs no download and no
//     refused register.
//   - Many names: the tenant's application names, id and name only
//     (TenantNames, PageSize a page), when they take at most one page per
//     TakenShare names; the names found there (in a cold sync, none) are
//     then looked up one by one to learn who holds them. The first page
//     tells the tenant's size; when the tenant is larger, Taken stops there
//     and reports nothing.
//   - Otherwise, nothing: a clash costs this run one download and one
//     refused register (Create's error wraps ocsync.ErrConflict), and the
//     next run, creating few, finds it at plan time.
//
// A cold sync of 1000 instances into a tenant of up to 10 000 applications
// thus costs the Director the registrations, its listing pages and at most
// 50 pages of names (one page for an empty tenant), instead of 1000
// look-ups; and no run pays a second time for a clash it met once, unless
// it keeps creating more than TakenBatch applications into a tenant too
// large to list its names.
func (r *Registry) Taken(ctx context.Context, names []string) ([]ocsync.Registered, error) {
	var keys []string
	seen := map[string]bool{}
	for _, n := range names {
		if k := NormalizeName(n); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) > TakenBatch {
		var err error
		if keys, err = r.tenantTaken(ctx, keys, (len(keys)+TakenShare-1)/TakenShare); err != nil {
			return nil, err
		}
	}
	return r.takenByName(ctx, keys)
}

// tenantTaken returns those of keys that a name in the tenant normalises
// to, reading the tenant's names a page at a time, at most maxPages pages.
// When the first page's totalCount asks for more, or the tenant grows past
// that while it reads, it returns what it found so far: a clash it missed
// is refused by the Director at register, so a short answer costs at most
// a refused register, never a wrong change.
func (r *Registry) tenantTaken(ctx context.Context, keys []string, maxPages int) ([]string, error) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	found := map[string]bool{}
	w := newPager(r.cfg.PageSize)
	ids := map[string]bool{}
	for page := 1; ; page++ {
		var p *director.NamesPage
		err := r.call(ctx, "TenantNames", r.query(), func(ctx context.Context) error {
			resp, err := director.TenantNames(ctx, r.client, w.size, w.cursor())
			if err != nil {
				return err
			}
			p = resp.Applications
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("compass: names page %d: %w", page, err)
		}
		switch {
		case p == nil || p.Data == nil:
			return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", "the page or its data is null"))
		case p.PageInfo == nil || p.PageInfo.HasNextPage == nil || p.PageInfo.EndCursor == nil:
			return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", "pageInfo is null or lacks hasNextPage or endCursor"))
		case p.TotalCount == nil || *p.TotalCount < 0:
			return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", "totalCount is missing or negative"))
		}
		for i, it := range p.Data {
			if it == nil || ptr.Value(it.Id) == "" || ptr.Value(it.Name) == "" {
				return nil, fmt.Errorf("compass: names page %d: %w", page, malformed("TenantNames", fmt.Sprintf("item %d lacks its id or name", i)))
			}
			ids[*it.Id] = true
			if k := NormalizeName(*it.Name); want[k] {
				found[k] = true
			}
		}
		last, err := w.advance("TenantNames", page, len(ids), len(p.Data), *p.TotalCount, *p.PageInfo.HasNextPage, *p.PageInfo.EndCursor)
		if err != nil {
			return nil, fmt.Errorf("compass: names page %d: %w", page, err)
		}
		if last || w.pages() > maxPages {
			break
		}
	}
	// In the order of keys, so that the look-ups do not depend on the
	// order of the pages.
	var out []string
	for _, k := range keys {
		if found[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// takenByName looks up normalised names one by one, TakenBatch per
// request and TakenConcurrency requests at once.
func (r *Registry) takenByName(ctx context.Context, keys []string) ([]ocsync.Registered, error) {
	// The batches run TakenConcurrency at a time; their results are merged
	// in batch order, so the answer does not depend on timing.
	batches := make([][]ocsync.Registered, (len(keys)+TakenBatch-1)/TakenBatch)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(TakenConcurrency)
	for b := range batches {
		batch := keys[b*TakenBatch : min((b+1)*TakenBatch, len(keys))]
		g.Go(func() (err error) {
			batches[b], err = r.takenBatch(gctx, batch)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []ocsync.Registered
	found := map[string]bool{}
	for _, matches := range batches {
		for _, m := range matches {
			if !found[m.ID] {
				found[m.ID] = true
				out = append(out, m)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b ocsync.Registered) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// takenBatch looks up at most TakenBatch normalised names in one request.
func (r *Registry) takenBatch(ctx context.Context, batch []string) ([]ocsync.Registered, error) {
	var f [TakenBatch][]director.LabelFilter
	var use [TakenBatch]bool
	for i, k := range batch {
		f[i] = []director.LabelFilter{{Key: "name", Query: ptr.To(jsonString(k))}}
		use[i] = true
	}
	var pages [TakenBatch]*director.TakenPage
	err := r.call(ctx, "TakenNames", r.query(), func(ctx context.Context) error {
		resp, err := director.TakenNames(ctx, r.client,
			f[0], use[0], f[1], use[1], f[2], use[2], f[3], use[3], f[4], use[4],
			f[5], use[5], f[6], use[6], f[7], use[7], f[8], use[8], f[9], use[9],
			f[10], use[10], f[11], use[11], f[12], use[12], f[13], use[13], f[14], use[14],
			f[15], use[15], f[16], use[16], f[17], use[17], f[18], use[18], f[19], use[19])
		if err != nil {
			return err
		}
		pages = [TakenBatch]*director.TakenPage{resp.N0, resp.N1, resp.N2, resp.N3, resp.N4,
			resp.N5, resp.N6, resp.N7, resp.N8, resp.N9, resp.N10, resp.N11, resp.N12, resp.N13,
			resp.N14, resp.N15, resp.N16, resp.N17, resp.N18, resp.N19}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []ocsync.Registered
	for i := range batch {
		p := pages[i]
		if p == nil || p.Data == nil {
			return nil, malformed("TakenNames", fmt.Sprintf("look-up %d of the batch is null", i))
		}
		for _, it := range p.Data {
			if it == nil || ptr.Value(it.Id) == "" || ptr.Value(it.Name) == "" {
				return nil, malformed("TakenNames", fmt.Sprintf("look-up %d of the batch holds an item without id or name", i))
			}
			key, owned, holder := r.ownerOf(it.Labels)
			out = append(out, ocsync.Registered{ID: *it.Id, Name: *it.Name, Key: key, Owned: owned, Holder: holder})
		}
	}
	return out, nil
}
