package openconnectors

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/internal/transport"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Bounds of one listing (see Client.Instances).
const (
	// MaxCursorBytes is the longest Elements-Next-Page-Token accepted.
	MaxCursorBytes = 4 << 10
	// PageSlack is how many pages a listing may take beyond what the
	// platform's Elements-Total-Count announces (ceil(total/PageSize)), for
	// instances added while the listing runs, before the client logs a
	// warning. The count never bounds a listing: its meaning on
	// /instances is not documented.
	PageSlack = 2
)

// instancesPath is the listing endpoint.
const instancesPath = "/instances"

// Instances lists every instance that carries at least one of the configured
// tags (every instance when no tag is configured). It sends the tags to the
// platform as repeated tags[] parameters and filters the result again on the
// client, because the platform does not document whether several tags are
// ANDed or ORed; the client's rule is ANY. The client's filter applies only
// to items that carry a tags array: an item without one (the field absent or
// null, as the platform may send items without hydrate) was selected by the
// server by the tags sent and is listed, with Instance.Tags nil. An item
// whose tags array holds none of the configured tags (an empty array
// included) is left out with a debug record.
//
// A listing is all or nothing: it returns every page or an error, never a
// part. It follows the Elements-Next-Page-Token cursor until the header is
// absent or empty. Each page must be a JSON array of instance objects that
// decode strictly (see the package documentation); a page that is not, an
// item that does not decode, and two differing objects with one id fail the
// listing with an error naming the page (and the item's index). Identical
// objects with one id are listed once. The listing also fails on a cursor
// seen before (the one just sent included), a cursor longer than
// MaxCursorBytes, a page without items that still names a next page, more
// than ocsync.MaxApplications instances, and more pages than
// ocsync.MaxApplications / PageSize. A total the platform announces in
// Elements-Total-Count is only logged (its presence and meaning on
// /instances are not documented; it might count one page): a listing that
// takes more than ceil(total / PageSize) + PageSlack pages logs one
// warning and goes on.
//
// Every instance token decoded, and the Authorization value made with it,
// is registered with the Config's Scrubber. Errors wrap what failed: an
// *APIError, a transport error (remote.ErrRetryable), ocsync.ErrFatal for
// 401 and 403. A refusal (401, 403) names UserSecret and
// OrganizationSecret and a page answered by an HTML page (a wrong Host)
// names Host, as the fields to check (a *remote.ConfigError in the
// chain).
func (c *Client) Instances(ctx context.Context) ([]Instance, error) {
	q := url.Values{}
	for _, t := range c.cfg.Tags {
		q.Add("tags[]", t)
	}
	q.Set("pageSize", strconv.Itoa(c.cfg.PageSize))
	maxPages := ocsync.MaxApplications / c.cfg.PageSize
	total, warned := -1, false
	out := []Instance{}
	seen := map[int64]Instance{}
	cursors := map[string]bool{}
	cursor := ""
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, c.listError(page, "more than %d pages of %d instances%s; the platform keeps naming a next page",
				maxPages, c.cfg.PageSize, totalNote(total))
		}
		h, body, err := c.get(ctx, c.list, instancesPath, q)
		if err != nil {
			return nil, fmt.Errorf("list instances: page %d: %w", page, err)
		}
		if transport.HTMLPage(c.scrub, http.StatusOK, h, body) != nil {
			return nil, fmt.Errorf("list instances: page %d: %w", page, newAPIError(http.MethodGet, instancesPath, http.StatusOK, h, body, c.scrub))
		}
		items, err := decodePage(body)
		if err != nil {
			return nil, fmt.Errorf("list instances: page %d: GET %s: %w", page, instancesPath, err)
		}
		for _, in := range items {
			c.register(in)
			if prev, dup := seen[in.ID]; dup {
				if !prev.same(in) {
					return nil, c.listError(page, "instance %d is listed twice with different values", in.ID)
				}
				continue
			}
			if len(seen) == ocsync.MaxApplications {
				return nil, c.listError(page, "more than %d instances", ocsync.MaxApplications)
			}
			seen[in.ID] = in
			// The server selected the item by the tags sent; only tags
			// it sends can say otherwise.
			if in.Tags != nil && !in.HasAnyTag(c.cfg.Tags) {
				c.cfg.Logger.Debug("openconnectors: instance without a configured tag left out", "id", in.ID)
				continue
			}
			out = append(out, in)
		}
		if n, ok := totalCount(h); ok && n > total {
			total = n
		}
		if expected := max((total+c.cfg.PageSize-1)/c.cfg.PageSize, 1); total >= 0 && !warned && page > expected+PageSlack {
			warned = true
			c.cfg.Logger.Warn("openconnectors: the listing takes more pages than Elements-Total-Count announces; the count is not used as a bound",
				"page", page, "pageSize", c.cfg.PageSize, "total", total)
		}
		next := strings.TrimSpace(h.Get("Elements-Next-Page-Token"))
		switch {
		case next == "":
			c.cfg.Logger.Debug("openconnectors: instances listed", "pages", page, "instances", len(out), "total", total)
			return out, nil
		case len(next) > MaxCursorBytes:
			return nil, c.listError(page, "the next-page cursor is longer than %d bytes", MaxCursorBytes)
		case len(items) == 0:
			return nil, c.listError(page, "a page without instances names a next page")
		case next == cursor:
			return nil, c.listError(page, "the server repeated a page cursor")
		case cursors[next]:
			return nil, c.listError(page, "the server returned to a page cursor seen before (a cursor cycle)")
		}
		cursors[next] = true
		cursor = next
		q.Set("nextPage", next)
	}
}

// register makes the Scrubber know an instance's token and the
// Authorization value made with it. The value's other parts ("Element
// <token>", the tenant's secrets) need no entries of their own: scrubbing
// the token and the secrets already removes them.
func (c *Client) register(in Instance) {
	if in.Token == "" {
		return
	}
	c.scrub.Add(in.Token.Reveal(), c.auth+", Element "+in.Token.Reveal())
}

func (c *Client) listError(page int, format string, args ...any) error {
	return fmt.Errorf("list instances: page %d: GET %s: %s", page, instancesPath, fmt.Sprintf(format, args...))
}

// totalCount reads Elements-Total-Count, for logging only: a decimal count
// of at most ocsync.MaxApplications. Anything else is not usable and
// ignored.
func totalCount(h http.Header) (int, bool) {
	v := strings.TrimSpace(h.Get("Elements-Total-Count"))
	if v == "" || len(v) > 7 || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > ocsync.MaxApplications {
		return 0, false
	}
	return n, true
}

func totalNote(total int) string {
	if total < 0 {
		return ""
	}
	return fmt.Sprintf(" (Elements-Total-Count %d)", total)
}
