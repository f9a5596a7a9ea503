package ocsync

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ChangeKind says what a Change does.
type ChangeKind string

// The kinds of change a plan holds.
const (
	// KindCreate registers a new application.
	KindCreate ChangeKind = "create"
	// KindUpdate changes an owned application.
	KindUpdate ChangeKind = "update"
	// KindDelete unregisters an owned application whose source is gone.
	KindDelete ChangeKind = "delete"
	// KindUnchanged is an owned application already in sync.
	KindUnchanged ChangeKind = "unchanged"
	// KindConflict is a desired application whose name is taken by an
	// application the job does not own. It is reported and not touched.
	KindConflict ChangeKind = "conflict"
	// KindSkipped is an item left alone: by policy, because its source is
	// disabled or invalid, or because its input is unusable.
	KindSkipped ChangeKind = "skipped"
)

// Policy limits which kinds of change a plan may apply.
type Policy string

// The policies.
const (
	// PolicySync creates, updates and deletes.
	PolicySync Policy = "sync"
	// PolicyUpsertOnly creates and updates, never deletes.
	PolicyUpsertOnly Policy = "upsert-only"
	// PolicyCreateOnly only creates.
	PolicyCreateOnly Policy = "create-only"
)

// ParsePolicy returns the policy named s; the empty string means PolicySync.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case "":
		return PolicySync, nil
	case PolicySync, PolicyUpsertOnly, PolicyCreateOnly:
		return p, nil
	}
	return "", fmt.Errorf("unknown policy %q (want %q, %q or %q)", s, PolicySync, PolicyUpsertOnly, PolicyCreateOnly)
}

// allows reports whether the policy lets a change of kind k through.
func (p Policy) allows(k ChangeKind) bool {
	switch p {
	case PolicyUpsertOnly:
		return k != KindDelete
	case PolicyCreateOnly:
		return k == KindCreate
	}
	return true
}

// Change is one item of a plan.
type Change struct {
	// Kind says what the change does.
	Kind ChangeKind `json:"kind"`
	// Name is the application name.
	Name string `json:"name"`
	// Key is the source identity (for example the instance id), when known.
	Key string `json:"key,omitempty"`
	// ID is the registry's id of an existing application.
	ID string `json:"id,omitempty"`
	// Fields lists what an update changes, sorted.
	Fields []string `json:"fields,omitempty"`
	// Old are the attributes as registered (updates, deletes, conflicts).
	Old *Attributes `json:"old,omitempty"`
	// New are the desired attributes (creates, updates).
	New *Attributes `json:"new,omitempty"`
	// Reason explains a conflict or a skipped item, or why a change was withheld.
	Reason string `json:"reason,omitempty"`
	// Withheld is true for a deletion the guard held back.
	Withheld bool `json:"withheld,omitempty"`
	// Unusable is true for a skipped item whose source object cannot be
	// mapped (see Application.Unusable): its registered application, if
	// any, is left exactly as it is.
	Unusable bool `json:"unusable,omitempty"`

	desired *Application
	current *Registered
}

// Desired returns the desired application of a create or update, or nil.
func (c *Change) Desired() *Application { return c.desired }

// Current returns the registered application of an update, delete or
// conflict, or nil.
func (c *Change) Current() *Registered { return c.current }

// Guard reports the state of the mass-deletion guard for a plan.
type Guard struct {
	// Tripped is true when deletions are withheld.
	Tripped bool `json:"tripped"`
	// Forced is true when the guard would have tripped but was lifted by
	// PlanOptions.Force.
	Forced bool `json:"forced,omitempty"`
	// Approved is true when the guard would have tripped but was lifted
	// because PlanOptions.ApproveDigest equals the plan's DeletionsDigest.
	Approved bool `json:"approved,omitempty"`
	// Refused holds the digest that was offered for approval when it did
	// not match the plan's deletions; the guard then trips whatever the
	// percentage (see PlanOptions.ApproveDigest).
	Refused string `json:"refused,omitempty"`
	// Owned is how many applications the job owns.
	Owned int `json:"owned"`
	// Deletes is how many deletions the plan holds.
	Deletes int `json:"deletes"`
	// MaxPercent is the threshold used.
	MaxPercent int `json:"maxPercent"`
	// SourceEmpty is true when the source listed no application while the
	// job owns some: the guard then trips whatever the percentage, since an
	// empty listing is more often a wrong selection or a broken source
	// than a tenant whose instances are all gone.
	SourceEmpty bool `json:"sourceEmpty,omitempty"`
}

// Plan is the full set of changes of one run, sorted by application name.
type Plan struct {
	// Policy is the policy the plan was made with.
	Policy Policy `json:"policy"`
	// Changes, sorted by name.
	Changes []Change `json:"changes"`
	// Guard is the deletion guard's verdict.
	Guard Guard `json:"guard"`
	// DeletionsDigest identifies the set of deletions the plan holds (see
	// DeletionsDigest); empty when it holds none. An operator who reviewed a
	// dry run approves exactly those deletions with it.
	DeletionsDigest string `json:"deletionsDigest,omitempty"`

	// listed is when Engine.Plan had both listings; zero for a plan
	// made by Calculate alone.
	listed time.Time
}

// DeletionsDigest returns a short digest of the deletions among changes: the
// names and registry ids of the applications a plan deletes (withheld ones
// included), in name order. Two plans that delete the same applications have
// the same digest, whatever else they do; "" when there are none.
func DeletionsDigest(changes []Change) string {
	var dels []string
	for i := range changes {
		if c := &changes[i]; c.Kind == KindDelete {
			dels = append(dels, c.Name+"\x00"+c.ID)
		}
	}
	if len(dels) == 0 {
		return ""
	}
	slices.Sort(dels)
	h := sha256.New()
	for _, d := range dels {
		h.Write([]byte(d))
		h.Write([]byte{'\n'})
	}
	return digestPrefix + hex.EncodeToString(h.Sum(nil)[:digestBytes])
}

// The form of a deletions digest: the prefix and 16 bytes in lower-case hex.
const (
	digestPrefix = "sha256:"
	digestBytes  = 16
)

// IsDeletionsDigest reports whether s has the form of a DeletionsDigest
// ("sha256:" and 32 lower-case hex digits), as an approval must.
func IsDeletionsDigest(s string) bool {
	hexPart, ok := strings.CutPrefix(s, digestPrefix)
	if !ok || len(hexPart) != 2*digestBytes {
		return false
	}
	for _, c := range hexPart {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Count returns how many changes of kind k the plan holds.
func (p *Plan) Count(k ChangeKind) int {
	n := 0
	for i := range p.Changes {
		if p.Changes[i].Kind == k {
			n++
		}
	}
	return n
}

// Mutations returns how many changes would call the Registry: creates,
// updates and deletions not withheld.
func (p *Plan) Mutations() int {
	n := 0
	for i := range p.Changes {
		if p.Changes[i].mutates() {
			n++
		}
	}
	return n
}

func (c *Change) mutates() bool {
	switch c.Kind {
	case KindCreate, KindUpdate:
		return true
	case KindDelete:
		return !c.Withheld
	}
	return false
}

// DefaultMaxDeletePercent is the deletion guard's threshold when none is set.
const DefaultMaxDeletePercent = 30

// DefaultSpecRefreshInterval is how old a stored spec may get before it is
// fetched again, when no interval is set.
const DefaultSpecRefreshInterval = 24 * time.Hour

// MaxApplications is the most applications (or source objects) one listing
// may hold. Clients derive their page ceiling from it (MaxApplications
// divided by the page size): a listing that would go on past it fails
// instead of running forever.
const MaxApplications = 100_000

// guardFloor is the number of owned applications below which the percentage
// rule of the guard does not apply.
const guardFloor = 10

// PlanOptions are the inputs of Calculate besides the two listings.
type PlanOptions struct {
	// Policy; empty means PolicySync.
	Policy Policy
	// MaxDeletePercent is the guard's threshold, 1..100; 0 means
	// DefaultMaxDeletePercent.
	MaxDeletePercent int
	// Force lifts the deletion guard.
	Force bool
	// ApproveDigest, when set, lifts the deletion guard only if it equals
	// the plan's DeletionsDigest: the deletions an operator reviewed in a
	// dry run are applied, and any other set of deletions is withheld
	// (Guard.Refused), even one the percentage rule would let through.
	ApproveDigest string
	// SpecRefreshInterval; 0 means DefaultSpecRefreshInterval.
	SpecRefreshInterval time.Duration
	// Now is the time the spec ages are measured against.
	Now time.Time
	// NameKey, when set, maps a name to the key the target uses for name
	// uniqueness (the Director lowercases and normalises names), so that
	// clashes with foreign applications are found at plan time.
	NameKey func(string) string
}

// Calculate computes the plan that takes the registered applications to the
// desired ones. It is a pure function: the same inputs give the same plan.
// Unusable desired applications (empty or duplicate names) become skipped
// items; they never stop the others.
func Calculate(desired []Application, registered []Registered, opts PlanOptions) *Plan {
	policy := opts.Policy
	if policy == "" {
		policy = PolicySync
	}
	maxPct := opts.MaxDeletePercent
	if maxPct <= 0 {
		maxPct = DefaultMaxDeletePercent
	}
	refresh := opts.SpecRefreshInterval
	if refresh <= 0 {
		refresh = DefaultSpecRefreshInterval
	}
	nameKey := opts.NameKey
	if nameKey == nil {
		nameKey = func(s string) string { return s }
	}

	owned := map[string]*Registered{}
	foreign := map[string]*Registered{}
	ownedCount := 0
	for i := range registered {
		r := &registered[i]
		if r.Owned {
			ownedCount++
			owned[r.Name] = r
		} else {
			foreign[nameKey(r.Name)] = r
		}
	}

	plan := &Plan{Policy: policy, Changes: make([]Change, 0, len(desired)+len(registered))}
	seen := map[string]bool{}
	for i := range desired {
		d := &desired[i]
		c := Change{Name: d.Name, Key: d.Key, desired: d}
		switch {
		case strings.TrimSpace(d.Name) == "":
			c.Kind, c.Reason = KindSkipped, "desired application has an empty name"
			c.desired = nil
		case seen[d.Name]:
			c.Kind, c.Reason = KindSkipped, "duplicate desired application name"
			c.desired = nil
		case d.Unusable != "":
			// Seen, so that its application is not deleted; never created
			// or changed either.
			seen[d.Name] = true
			c.Kind, c.Unusable, c.Reason, c.desired = KindSkipped, true, "unusable: "+d.Unusable, nil
			if own := owned[d.Name]; own != nil {
				old := own.Attributes
				c.ID, c.Old = own.ID, &old
			}
		default:
			seen[d.Name] = true
			c = planDesired(d, owned[d.Name], foreign[nameKey(d.Name)], opts.Now, refresh)
		}
		plan.Changes = append(plan.Changes, c)
	}
	for i := range registered {
		r := &registered[i]
		if r.Owned && !seen[r.Name] {
			old := r.Attributes
			plan.Changes = append(plan.Changes, Change{Kind: KindDelete, Name: r.Name, Key: r.Key, ID: r.ID, Old: &old, current: r})
		}
	}

	for i := range plan.Changes {
		c := &plan.Changes[i]
		if (c.Kind == KindCreate || c.Kind == KindUpdate || c.Kind == KindDelete) && !policy.allows(c.Kind) {
			c.Reason = fmt.Sprintf("%s withheld by policy %s", c.Kind, policy)
			c.Kind = KindSkipped
		}
	}

	deletes := plan.Count(KindDelete)
	plan.Guard = Guard{Owned: ownedCount, Deletes: deletes, MaxPercent: maxPct, SourceEmpty: len(desired) == 0 && ownedCount > 0}
	plan.DeletionsDigest = DeletionsDigest(plan.Changes)
	trips := deletes > 0 && (plan.Guard.SourceEmpty || (ownedCount >= guardFloor && deletes*100 > maxPct*ownedCount))
	approved := opts.ApproveDigest != "" && opts.ApproveDigest == plan.DeletionsDigest
	refused := opts.ApproveDigest != "" && !approved && deletes > 0
	switch {
	case refused:
		plan.Guard.Refused = opts.ApproveDigest
		fallthrough
	case trips && !approved && !opts.Force:
		plan.Guard.Tripped = true
		for i := range plan.Changes {
			if c := &plan.Changes[i]; c.Kind == KindDelete {
				c.Withheld = true
				c.Reason = "withheld by the deletion guard"
				if plan.Guard.SourceEmpty {
					c.Reason = "withheld by the deletion guard: the source listed no application"
				}
				if refused {
					c.Reason = "withheld: the approved digest does not match the plan's deletions"
				}
			}
		}
	case trips && approved:
		plan.Guard.Approved = true
	case trips:
		plan.Guard.Forced = true
	}

	slices.SortStableFunc(plan.Changes, func(a, b Change) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return plan
}

func planDesired(d *Application, own, other *Registered, now time.Time, refresh time.Duration) Change {
	want := d.Attributes
	c := Change{Name: d.Name, Key: d.Key, New: &want, desired: d}
	if own == nil {
		if other != nil {
			old := other.Attributes
			c.Kind, c.ID, c.Old, c.New, c.desired, c.current = KindConflict, other.ID, &old, nil, nil, other
			holder := other.Holder
			if holder == "" {
				holder = "an application this job does not own"
			}
			c.Reason = fmt.Sprintf("name %q is taken by %s", other.Name, holder)
			return c
		}
		if d.Status == StatusFailed {
			c.Kind, c.New, c.desired = KindSkipped, nil, nil
			c.Reason = "source is disabled or invalid; not created"
			return c
		}
		c.Kind = KindCreate
		return c
	}
	old := own.Attributes
	c.ID, c.Old, c.current = own.ID, &old, own
	c.Fields = changedFields(d, own, now, refresh)
	if len(c.Fields) == 0 {
		c.Kind, c.New, c.desired = KindUnchanged, nil, nil
		return c
	}
	c.Kind = KindUpdate
	return c
}

func changedFields(d *Application, r *Registered, now time.Time, refresh time.Duration) []string {
	var fields []string
	if r.Incomplete {
		fields = append(fields, FieldStructure)
	}
	var stored map[string]string
	if r.State != nil {
		stored = r.State.Fields
	}
	for name, h := range d.Fingerprint() {
		if stored[name] != h {
			fields = append(fields, name)
		}
	}
	for _, name := range r.ReadBack {
		want, ok := d.Attributes.value(name)
		if ok && want != "" && !slices.Contains(fields, name) {
			if have, _ := r.Attributes.value(name); have != want {
				fields = append(fields, name) // changed in the target behind the sync's back
			}
		}
	}
	if specDue(r.State, d.Name, now, refresh) {
		fields = append(fields, FieldSpec)
	}
	slices.Sort(fields)
	return fields
}

// specDue reports whether the stored spec of the application named name is
// due for its refresh. A spec without a hash or fetch time is always due.
// Otherwise refreshes are spread evenly over the interval: each application
// has its own phase within the interval (derived from its name), and its spec
// is due once per interval, when a run is the first past the application's
// next refresh time (phase + k·refresh since the Unix epoch) after the last
// fetch. Applications created together thus have their first refresh spread
// over the following interval instead of all in one run, and no stored spec
// gets older than the interval plus one run period. A fetch time in the
// future by more than an interval (a clock that was wrong) is due too.
func specDue(st *State, name string, now time.Time, refresh time.Duration) bool {
	if st == nil || st.SpecSHA256 == "" || st.SpecFetchedAt.IsZero() {
		return true
	}
	age := now.Sub(st.SpecFetchedAt)
	if age >= refresh || age < -refresh {
		return true
	}
	phase := refreshPhase(name, refresh)
	return refreshSlot(now, phase, refresh) > refreshSlot(st.SpecFetchedAt, phase, refresh)
}

// refreshPhase is the application's offset within the refresh interval.
func refreshPhase(name string, refresh time.Duration) int64 {
	sum := sha256.Sum256([]byte(name))
	var v uint64
	for _, b := range sum[:8] {
		v = v<<8 | uint64(b)
	}
	return int64(v % uint64(refresh))
}

// refreshSlot numbers the refresh periods of one application: the slot
// changes at phase + k·refresh nanoseconds since the Unix epoch.
func refreshSlot(t time.Time, phase int64, refresh time.Duration) int64 {
	n := t.UnixNano() - phase
	q := n / int64(refresh)
	if n%int64(refresh) < 0 {
		q-- // floor division for times before the epoch
	}
	return q
}
