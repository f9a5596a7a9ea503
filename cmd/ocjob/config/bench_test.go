package config_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// The conditions of every sync benchmark.
const (
	// benchLatency is added to every request by both fakes, token requests
	// included.
	benchLatency = 5 * time.Millisecond
	// benchConcurrency is sync.concurrency.
	benchConcurrency = 16
	// benchPageSize is the page size of both listings (the default).
	benchPageSize = config.DefaultPageSize
	// benchRefresh is sync.specRefreshInterval: a century, so that no
	// stored spec falls due during a benchmark. The engine spreads refreshes
	// over the interval, so with the default of 24 h a run a few seconds
	// after the one that stored 1000 specs finds one of them due every few
	// dozen runs, and a no-op run would not be one.
	benchRefresh = "876000h"
)

// directorQueries are the Director operations that change nothing; every
// other operation the fake counts is a mutation.
var directorQueries = map[string]bool{"applications": true, "application": true, "viewer": true, compasstest.TokenOperation: true}

// platform is one Open Connectors tenant and one Director, both fakes on
// loopback, and the configuration of a job that syncs them.
type platform struct {
	oc       *octest.Server
	director *compasstest.Server
	cfg      *config.Config
	// registryCalls counts the engine's Registry mutations of the last sync.
	registryCalls atomic.Int64
}

// instanceSpec is the document of instance id: a Swagger document of about
// size bytes, the same bytes for the same id.
func instanceSpec(size int) func(id int64) []byte {
	return func(id int64) []byte { return octest.SwaggerDocument("instance-"+strconv.FormatInt(id, 10), size) }
}

func benchInstance(id int64) octest.Instance {
	return octest.Instance{
		ID: id, Name: fmt.Sprintf("crm-%d", id), Token: fmt.Sprintf("token-%d", id),
		Element: octest.Element{ID: 3, Key: "sfdc", Name: "Salesforce Sales Cloud"},
	}
}

// newPlatform starts an Open Connectors fake holding instances 1..n, whose
// specs of about specSize bytes are generated on each request, and a
// Director fake that keeps only the digests of the specs it receives. It
// injects no latency yet.
func newPlatform(b *testing.B, n, specSize int) *platform {
	b.Helper()
	instances := make([]octest.Instance, n)
	for i := range instances {
		instances[i] = benchInstance(int64(i + 1))
	}
	p := &platform{oc: octest.NewServer(octest.WithInstances(instances...), octest.WithSpecFunc(instanceSpec(specSize)))}
	p.newDirector(b)
	return p
}

// newDirector replaces the Director by an empty one and points the
// configuration at it.
func (p *platform) newDirector(b *testing.B) {
	b.Helper()
	if p.director != nil {
		p.director.Close()
	}
	p.director = compasstest.NewServer(compasstest.WithDiscardSpecs())
	doc := fmt.Sprintf(`{
		"logLevel": "Info",
		"compass": {"directorURL": %q, "tokenUrl": %q, "tenantId": %q, "clientID": %q, "clientSecret": %q, "applicationPrefix": "oc"},
		"openConnectors": {"hostname": %q, "userSecret": %q, "organizationSecret": %q},
		"sync": {"concurrency": %d, "specRefreshInterval": %q}
	}`, p.director.GraphQLURL(), p.director.TokenURL(), compasstest.DefaultTenant, compasstest.DefaultClientID,
		compasstest.DefaultClientSecret, p.oc.URL, p.oc.UserSecret, p.oc.OrganizationSecret, benchConcurrency, benchRefresh)
	cfg, err := config.Parse(strings.NewReader(doc), nil)
	if err != nil {
		b.Fatal(err)
	}
	p.cfg = cfg
}

func (p *platform) close() {
	p.oc.Close()
	p.director.Close()
}

// setLatency makes both fakes delay every request by d (0: none).
func (p *platform) setLatency(d time.Duration) {
	p.oc.ClearFaults()
	if d > 0 {
		for _, ep := range []octest.Endpoint{octest.EndpointInstances, octest.EndpointInstance, octest.EndpointDocs} {
			p.oc.AddFault(ep, octest.Fault{Latency: d})
		}
	}
	p.director.SetLatency(d)
}

// sync runs the job once, as a fresh process would (new clients, no idle
// connections), and fails the benchmark unless it converged.
func (p *platform) sync(b *testing.B) *ocsync.Report {
	b.Helper()
	ctl, err := config.NewController(p.cfg, config.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p.registryCalls.Store(0)
	ctl.Engine.Registry = countingRegistry{Registry: ctl.Engine.Registry, calls: &p.registryCalls}
	out := ctl.RunOnce(context.Background())
	rep, err := out.Report, out.Err
	if err != nil {
		b.Fatalf("sync: exit code %d: %v", ocsync.ExitCode(rep, err), err)
	}
	return rep
}

// countingRegistry counts the application mutations (Create, Update and
// Delete calls) the engine makes, successful or not.
type countingRegistry struct {
	ocsync.Registry
	calls *atomic.Int64
}

func (r countingRegistry) Create(ctx context.Context, app ocsync.Application, spec ocsync.Spec, st ocsync.State) error {
	r.calls.Add(1)
	return r.Registry.Create(ctx, app, spec, st)
}

func (r countingRegistry) Update(ctx context.Context, cur ocsync.Registered, app ocsync.Application, u ocsync.Update) error {
	r.calls.Add(1)
	return r.Registry.Update(ctx, cur, app, u)
}

func (r countingRegistry) Delete(ctx context.Context, cur ocsync.Registered) error {
	r.calls.Add(1)
	return r.Registry.Delete(ctx, cur)
}

// Taken forwards the plan's name look-up (ocsync.Names), which the
// embedded interface would hide from the engine; a Registry without one
// finds no name taken.
func (r countingRegistry) Taken(ctx context.Context, names []string) ([]ocsync.Registered, error) {
	if c, ok := r.Registry.(ocsync.Names); ok {
		return c.Taken(ctx, names)
	}
	return nil, nil
}

// snapshot is the Director's state by application name.
func (p *platform) snapshot() map[string]compasstest.Application { return appsByName(p.director) }

// appsByName is the state of the default tenant of d by application name.
func appsByName(d *compasstest.Server) map[string]compasstest.Application {
	apps := d.Applications(compasstest.DefaultTenant)
	out := make(map[string]compasstest.Application, len(apps))
	for _, a := range apps {
		out[a.Name] = a
	}
	return out
}

// changedApps counts the applications created, deleted or changed in any
// stored field between two snapshots.
func changedApps(before, after map[string]compasstest.Application) int {
	n := 0
	for name, a := range after {
		if old, ok := before[name]; !ok || !reflect.DeepEqual(old, a) {
			n++
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			n++
		}
	}
	return n
}

// measured is what one timed run cost.
type measured struct {
	wall         time.Duration
	httpCalls    int // both fakes, token requests included
	ocPages      int
	directorList int // applications pages (and lookups)
	tokens       int
	mutations    int // application mutations: Registry create, update and delete calls
	directorOps  int // Director mutation operations (GraphQL)
	// directorFields are the top-level fields the Director executed, each
	// alias as one: its work, which httpCalls hides.
	directorFields int
	specFetches    int
	appsChanged    int
	peakHeap       uint64
	peakLive       uint64
	baseHeap       uint64
	report         *ocsync.Report
}

// heapSampler records the largest values of the heap metrics while a run
// goes on: /memory/classes/heap/objects:bytes (every object not yet freed,
// garbage awaiting collection included: what the process holds) and
// /gc/heap/live:bytes (the heap marked live by the latest collection).
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
	live uint64
}

const (
	metricHeapObjects = "/memory/classes/heap/objects:bytes"
	metricHeapLive    = "/gc/heap/live:bytes"
)

func readHeap(samples []metrics.Sample) (objects, live uint64) {
	metrics.Read(samples)
	return samples[0].Value.Uint64(), samples[1].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	samples := []metrics.Sample{{Name: metricHeapObjects}, {Name: metricHeapLive}}
	h.peak, h.live = readHeap(samples)
	go func() {
		defer close(h.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				objects, live := readHeap(samples)
				h.peak, h.live = max(h.peak, objects), max(h.live, live)
			}
		}
	}()
	return h
}

// finish stops the sampler after one last sample.
func (h *heapSampler) finish() (peak, live uint64) {
	close(h.stop)
	<-h.done
	objects, l := readHeap([]metrics.Sample{{Name: metricHeapObjects}, {Name: metricHeapLive}})
	return max(h.peak, objects), max(h.live, l)
}

// timedSync runs one sync with the benchmark timer running and the
// latency on, and measures it. Everything else happens with the timer
// stopped: counters are reset, idle connections closed and the heap
// collected, so that each run starts like a fresh process on a quiet heap.
func (p *platform) timedSync(b *testing.B) measured {
	b.Helper()
	before := p.snapshot()
	p.oc.ResetCounts()
	p.director.ResetCounts()
	p.setLatency(benchLatency)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	runtime.GC()
	base, _ := readHeap([]metrics.Sample{{Name: metricHeapObjects}, {Name: metricHeapLive}})
	heap := startHeapSampler()

	b.StartTimer()
	start := time.Now()
	rep := p.sync(b)
	wall := time.Since(start)
	b.StopTimer()

	peak, live := heap.finish()
	p.setLatency(0)
	m := measured{
		wall: wall, peakHeap: peak, peakLive: live, baseHeap: base, report: rep,
		httpCalls:      p.oc.Requests() + p.director.Requests(),
		ocPages:        p.oc.Count(octest.EndpointInstances),
		directorList:   p.director.Count("applications"),
		tokens:         p.director.Count(compasstest.TokenOperation),
		specFetches:    p.oc.Count(octest.EndpointDocs),
		directorFields: p.director.FieldExecutions(),
	}
	m.mutations = int(p.registryCalls.Load())
	for op, n := range p.director.Counts() {
		if !directorQueries[op] {
			m.directorOps += n
		}
	}
	m.appsChanged = changedApps(before, p.snapshot())
	return m
}

// totals sums the measurements of all runs and reports them per op.
type totals struct {
	runs                                                    int
	wall, bound                                             time.Duration
	httpCalls, mutations, specFetches, appsChanged, changes int
	directorOps, directorFields, created                    int
	peakHeap, peakLive, baseHeap                            uint64
}

func (t *totals) add(m measured, bound time.Duration) {
	t.runs++
	t.wall += m.wall
	t.bound += bound
	t.httpCalls += m.httpCalls
	t.mutations += m.mutations
	t.directorOps += m.directorOps
	t.directorFields += m.directorFields
	t.created += m.report.Summary.Created
	t.specFetches += m.specFetches
	t.appsChanged += m.appsChanged
	t.changes += m.report.Plan.Mutations()
	t.peakHeap = max(t.peakHeap, m.peakHeap)
	t.peakLive = max(t.peakLive, m.peakLive)
	t.baseHeap = max(t.baseHeap, m.baseHeap)
}

const mib = 1 << 20

func (t *totals) report(b *testing.B) {
	n := float64(t.runs)
	b.ReportMetric(float64(t.httpCalls)/n, "http-calls/op")
	b.ReportMetric(float64(t.mutations)/n, "mutations/op")
	b.ReportMetric(float64(t.directorOps)/n, "director-mutations/op")
	b.ReportMetric(float64(t.directorFields)/n, "director-fields/op")
	if t.created > 0 {
		b.ReportMetric(float64(t.directorFields)/float64(t.created), "director-fields/created")
	}
	b.ReportMetric(float64(t.changes)/n, "changes/op")
	b.ReportMetric(float64(t.appsChanged)/n, "apps-changed/op")
	b.ReportMetric(float64(t.specFetches)/n, "spec-fetches/op")
	b.ReportMetric(float64(t.wall)/float64(t.bound), "x-bound/op")
	b.ReportMetric(float64(t.bound.Milliseconds())/n, "bound-ms/op")
	b.ReportMetric(float64(t.peakHeap)/mib, "peak-heap-MiB/op")
	b.ReportMetric(float64(t.peakLive)/mib, "peak-live-MiB/op")
	b.ReportMetric(float64(t.baseHeap)/mib, "base-heap-MiB/op")
}

// roundTrips is the time of n round trips of the injected latency.
func roundTrips(n int) time.Duration { return time.Duration(n) * benchLatency }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// expectPlan fails the benchmark unless the run applied exactly the wanted
// numbers of creates, updates and deletes, with no failure.
func expectPlan(b *testing.B, rep *ocsync.Report, created, updated, deleted, unchanged int) {
	b.Helper()
	s := rep.Summary
	if s.Created != created || s.Updated != updated || s.Deleted != deleted || s.Unchanged != unchanged ||
		s.Failed+s.Conflicts+s.Skipped+s.Withheld+s.NotStarted != 0 {
		b.Fatalf("unexpected run: %s; want %d created, %d updated, %d deleted, %d unchanged", s, created, updated, deleted, unchanged)
	}
}

// BenchmarkColdSync syncs N instances into an empty Director: every
// instance is created with its spec (about 20 KB for N=1000, about 100 KB
// for N=10000, the memory case; run that one with -benchtime=1x).
//
// Each op starts from the same state: a new, empty Director; the Open
// Connectors fake is only read. The round-trip lower bound is
//
//	bound = L × (ceil(N/pageSize) + 1 + 1 + ceil(N/concurrency) × 2)
//
// with L the injected latency: the Open Connectors pages, the token and the
// one empty Director page in sequence, then the items in waves of
// concurrency, each needing two round trips (GET docs, registerApplication).
// The engine lists both sides at once, so the bound is not tight by the
// length of the shorter listing.
func BenchmarkColdSync(b *testing.B) {
	for _, tc := range []struct{ n, specSize int }{{1000, 20 << 10}, {10000, 100 << 10}} {
		b.Run(fmt.Sprintf("instances=%d", tc.n), func(b *testing.B) {
			b.StopTimer()
			p := newPlatform(b, tc.n, tc.specSize)
			defer p.close()
			bound := roundTrips(ceilDiv(tc.n, benchPageSize) + 1 + 1 + ceilDiv(tc.n, benchConcurrency)*2)
			var t totals
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p.newDirector(b)
				m := p.timedSync(b)
				expectPlan(b, m.report, tc.n, 0, 0, 0)
				if m.specFetches != tc.n || m.appsChanged != tc.n {
					b.Fatalf("cold sync fetched %d specs and changed %d applications, want %d each", m.specFetches, m.appsChanged, tc.n)
				}
				// One registration per create, the one empty listing page, and
				// a name look-up of at most 5 % (one page of names here).
				if limit := tc.n + tc.n/compass.TakenShare + 1; m.directorFields > limit {
					b.Fatalf("cold sync made the Director execute %d fields, more than %d", m.directorFields, limit)
				}
				t.add(m, bound)
			}
			t.report(b)
		})
	}
}

// BenchmarkNoopSync runs the job on N instances that are already in sync:
// it must only list both sides (plus one token) and change nothing.
//
// Setup (a first sync, without latency) runs once; a no-op run changes
// nothing, which each op checks, so every op starts from the same state.
// The round-trip lower bound is
//
//	bound = L × (ceil(N/pageSize) + 1 + ceil(N/pageSize))
//
// the Open Connectors pages, the token and the Director pages in sequence;
// there are no items. The engine lists both sides at once, so x-bound is
// about one half here: the bound counts the pages of both sides in sequence.
func BenchmarkNoopSync(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
		b.StopTimer()
		p := newPlatform(b, n, 20<<10)
		defer p.close()
		p.sync(b)
		pages := ceilDiv(n, benchPageSize)
		bound := roundTrips(pages + 1 + pages)
		var t totals
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			m := p.timedSync(b)
			expectPlan(b, m.report, 0, 0, 0, n)
			if m.mutations != 0 || m.directorOps != 0 || m.specFetches != 0 || m.appsChanged != 0 {
				b.Fatalf("no-op sync: %d mutations (%d Director operations), %d spec fetches, %d applications changed", m.mutations, m.directorOps, m.specFetches, m.appsChanged)
			}
			t.add(m, bound)
		}
		t.report(b)
	})
}

// Drift of BenchmarkDriftSync, by instance id (disjoint sets).
func renamed(id int64) bool { return id%10 == 0 }
func removed(id int64) bool { return id%10 == 1 }
func rotated(id int64) bool { return id%20 == 2 }

// drift changes the Open Connectors tenant of n instances: 10 % renamed,
// 10 % removed, 10 % added (ids n+1..), 5 % with a new token. It returns
// the numbers of each.
func drift(oc *octest.Server, n int) (renames, removes, adds, rotations int) {
	for id := int64(1); id <= int64(n); id++ {
		switch {
		case renamed(id):
			oc.Update(id, func(in *octest.Instance) { in.Name += " (renamed)" })
			renames++
		case removed(id):
			oc.Remove(id)
			removes++
		case rotated(id):
			oc.Update(id, func(in *octest.Instance) { in.Token += "-rotated" })
			rotations++
		}
	}
	for id := int64(n + 1); id <= int64(n+n/10); id++ {
		oc.Put(benchInstance(id))
		adds++
	}
	return renames, removes, adds, rotations
}

// BenchmarkDriftSync runs the job on N instances of which 10 % were
// renamed, 10 % removed, 10 % added and 5 % got a new token since the last
// run.
//
// Each op gets a new platform, synced without latency before the drift is
// applied. Every change has a known minimal cost: a create is a spec fetch
// and registerApplication; a rename the pending state label,
// updateApplication, updateAPIDefinition (without the spec) and the state
// label; a new token the pending state label, updateBundle and the state
// label; a removal unregisterApplication. Updates fetch no spec: it is not
// due and the instances' revisions did not change. (Each update also reads
// its application's ids, a query.) The round-trip lower bound is
//
//	bound = L × (ceil(N₀/pageSize) + 1 + ceil(N₁/pageSize) + ceil(R/concurrency))
//
// with N₀ the registered applications, N₁ the instances after the drift
// and R the item round trips of all changes (spec fetches plus Director
// mutations), spread perfectly over concurrency workers.
func BenchmarkDriftSync(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
		b.StopTimer()
		var t totals
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			p := newPlatform(b, n, 20<<10)
			p.sync(b)
			renames, removes, adds, rotations := drift(p.oc, n)
			m := p.timedSync(b)
			p.close()

			updates := renames + rotations
			expectPlan(b, m.report, adds, updates, removes, n-renames-removes-rotations)
			wantDirectorOps := adds + 4*renames + 3*rotations + removes
			wantFetches := adds
			changes := adds + updates + removes
			if m.mutations != changes || m.directorOps != wantDirectorOps || m.specFetches != wantFetches || m.appsChanged != changes || m.report.Plan.Mutations() != changes {
				b.Fatalf("drift sync: %d mutations (want %d), %d Director operations (want %d), %d spec fetches (want %d), %d applications changed and %d planned (want %d)",
					m.mutations, changes, m.directorOps, wantDirectorOps, m.specFetches, wantFetches, m.appsChanged, m.report.Plan.Mutations(), changes)
			}
			items := wantFetches + wantDirectorOps
			bound := roundTrips(ceilDiv(n, benchPageSize) + 1 + ceilDiv(n-removes+adds, benchPageSize) + ceilDiv(items, benchConcurrency))
			t.add(m, bound)
		}
		t.report(b)
	})
}

// BenchmarkFakes measures what the fakes themselves cost per request,
// through plain HTTP clients: the round trip of a small request with the
// injected latency (what one "L" of the bounds really takes), and the CPU
// and allocations of serving a 20 KB spec and of storing one, without
// latency. That is the part of a sync's time and allocations that a real
// deployment would not spend in the job's process.
func BenchmarkFakes(b *testing.B) {
	const specSize = 20 << 10
	b.Run("octest/round-trip-5ms", func(b *testing.B) {
		oc := octest.NewServer(octest.WithInstances(benchInstance(1)))
		defer oc.Close()
		oc.AddFault(octest.EndpointInstance, octest.Fault{Latency: benchLatency})
		req, err := http.NewRequest(http.MethodGet, oc.URL+"/elements/api-v2/instances/1", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "User "+oc.UserSecret+", Organization "+oc.OrganizationSecret)
		client := &http.Client{}
		for b.Loop() {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("compasstest/round-trip-5ms", func(b *testing.B) {
		dir := compasstest.NewServer(compasstest.WithLatency(benchLatency))
		defer dir.Close()
		token := dir.Token(compasstest.DefaultClientID, "application:read")
		body := []byte(`{"query":"{ viewer { id } }"}`)
		client := &http.Client{}
		for b.Loop() {
			postGraphQL(b, client, dir, token, body)
		}
	})
	b.Run("octest/docs-20KB", func(b *testing.B) {
		oc := octest.NewServer(octest.WithInstances(benchInstance(1)), octest.WithSpecFunc(instanceSpec(specSize)))
		defer oc.Close()
		client := &http.Client{}
		req, err := http.NewRequest(http.MethodGet, oc.URL+"/elements/api-v2/instances/1/docs", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "User "+oc.UserSecret+", Organization "+oc.OrganizationSecret)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var buf [32 << 10]byte
			for {
				if _, err := resp.Body.Read(buf[:]); err != nil {
					break
				}
			}
			resp.Body.Close()
		}
	})
	b.Run("compasstest/register-20KB", func(b *testing.B) {
		dir := compasstest.NewServer(compasstest.WithDiscardSpecs())
		defer dir.Close()
		token := dir.Token(compasstest.DefaultClientID, "application:read", "application:write")
		spec := string(octest.SwaggerDocument("instance-1", specSize))
		const register = `mutation($n: String!, $d: CLOB!) { registerApplication(in: {name: $n, bundles: [{name: "sfdc",
			apiDefinitions: [{name: "a", targetURL: "https://h", spec: {type: OPEN_API, format: JSON, data: $d}}]}]}) { id } }`
		client := &http.Client{}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			body, err := json.Marshal(map[string]any{"query": register, "variables": map[string]any{"n": "oc-" + strconv.Itoa(i), "d": spec}})
			if err != nil {
				b.Fatal(err)
			}
			status, out := postGraphQL(b, client, dir, token, body)
			if status != http.StatusOK || !bytes.Contains(out, []byte(`"id"`)) || bytes.Contains(out, []byte(`"errors"`)) {
				b.Fatalf("register: %d %.300s", status, out)
			}
		}
	})
}

// postGraphQL sends one GraphQL request to the fake Director as the default
// tenant and returns the status and the body.
func postGraphQL(b *testing.B, client *http.Client, dir *compasstest.Server, token string, body []byte) (int, []byte) {
	req, err := http.NewRequest(http.MethodPost, dir.GraphQLURL(), bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("tenant", compasstest.DefaultTenant)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode, out
}
