//go:build linux

package config_test

// The benchmarks of this file measure the job alone: they build cmd/ocjob and
// run it as a process of its own against the fakes served by the benchmark
// process, so that the job's CPU time and memory (from the kernel's resource
// usage of the child, Linux only) are told apart from the fakes'. The wall
// time is compared with a round-trip bound at a latency large enough that the
// fakes' CPU is not what limits it.
//
// They build the binary only when one of them runs: a plain go test never
// pays for it.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// The conditions of every job-process benchmark.
const (
	// procLatency is added to every request by both fakes, token requests
	// included: large enough that the fakes' CPU per request (well under a
	// millisecond for the requests of a sync) is not the limit on 2 cores.
	procLatency = 20 * time.Millisecond
	// procConcurrency is sync.concurrency.
	procConcurrency = 16
	// procSpecSize is the size of the documents of the 1000-instance
	// scenarios; procLargeSpecSize that of the memory case.
	procSpecSize      = 20 << 10
	procLargeSpecSize = 100 << 10
	// ocjobPackage is the command the benchmarks build.
	ocjobPackage = "github.com/kyma-incubator/open-connectors-job/cmd/ocjob"
)

// jobProfiles, when set, builds the binary with a profiling hook and makes
// every run of the job process write a CPU profile, an allocation profile
// and its memory statistics into this directory (cpu-<benchmark>-<run>.pprof,
// allocs-<benchmark>-<run>.pprof, memstats-<benchmark>-<run>.json). Read them with go tool pprof and the
// binary, which is copied there as ocjob.
var jobProfiles = flag.String("ocjob.profiles", "", "`directory` for CPU and allocation profiles of the ocjob processes run by the benchmarks")

// Environment variables read by the profiling hook.
const (
	envCPUProfile   = "OCJOBBENCH_CPUPROFILE"
	envAllocProfile = "OCJOBBENCH_ALLOCPROFILE"
	envMemStats     = "OCJOBBENCH_MEMSTATS"
)

// profilingMain replaces cmd/ocjob/main.go (go build -overlay) when
// profiles are wanted: the same main, with a CPU profile around run and
// an allocation profile and the runtime's memory statistics (JSON) written
// before the exit.
const profilingMain = `package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cpu, err := os.Create(os.Getenv("` + envCPUProfile + `"))
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	if err := cpu.Close(); err != nil {
		panic(err)
	}
	allocs, err := os.Create(os.Getenv("` + envAllocProfile + `"))
	if err != nil {
		panic(err)
	}
	if err := pprof.Lookup("allocs").WriteTo(allocs, 0); err != nil {
		panic(err)
	}
	if err := allocs.Close(); err != nil {
		panic(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	ms.PauseNs, ms.PauseEnd, ms.BySize = [256]uint64{}, [256]uint64{}, [61]struct{ Size uint32; Mallocs, Frees uint64 }{}
	stats, err := json.MarshalIndent(&ms, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Getenv("` + envMemStats + `"), stats, 0o600); err != nil {
		panic(err)
	}
	os.Exit(code)
}
`

// usageRunner is the source of a small program that runs a command, waits
// for it and writes what the kernel reports of it to the file named by its
// first argument: wall time, user and system CPU and the peak resident set.
//
// The job is started through it because on Linux a child's ru_maxrss is at
// least the resident set its parent had when it executed the child: exec
// records the high-water mark of the address space it replaces, which
// after os/exec's vfork is the parent's. The benchmark process holds the
// fakes and their data (often more than the job), so it must not be that
// parent; this program's own few MiB are the floor instead, and the
// benchmarks report it (runner-floor-rss-MiB) so that a job figure close
// to it is recognised as one.
const usageRunner = `package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: runner USAGE-FILE COMMAND [ARG...]")
		os.Exit(125)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(125)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	usage, err := json.Marshal(map[string]int64{
		"wallNs": int64(wall), "userNs": ru.Utime.Nano(), "systemNs": ru.Stime.Nano(), "maxRSSKiB": ru.Maxrss,
	})
	if err == nil {
		err = os.WriteFile(os.Args[1], usage, 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(125)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}
`

// processUsage is what usageRunner reports of one process.
type processUsage struct {
	WallNs    int64 `json:"wallNs"`
	UserNs    int64 `json:"userNs"`
	SystemNs  int64 `json:"systemNs"`
	MaxRSSKiB int64 `json:"maxRSSKiB"` // KiB on Linux
}

// jobTools are the ocjob binary and usageRunner, built on first use into a
// directory owned by one top-level benchmark (so they are removed with
// it).
type jobTools struct {
	dir    string
	once   sync.Once
	job    string
	runner string
	// floorRSS is the peak resident set the runner reports of a process
	// that does next to nothing: the runner itself, without arguments.
	floorRSS int64
	err      error
}

func newJobTools(b *testing.B) *jobTools { return &jobTools{dir: b.TempDir()} }

// get builds the tools the first time. The go command is found on PATH,
// where go test puts the one running it.
func (j *jobTools) get(b *testing.B) *jobTools {
	b.Helper()
	j.once.Do(func() { j.err = j.build() })
	if j.err != nil {
		b.Fatal(j.err)
	}
	return j
}

func (j *jobTools) build() error {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is needed to build %s: %w", ocjobPackage, err)
	}
	j.job = filepath.Join(j.dir, "ocjob")
	args := []string{"build", "-o", j.job}
	if *jobProfiles != "" {
		overlay, err := writeProfilingOverlay(j.dir)
		if err != nil {
			return err
		}
		j.job = filepath.Join(*jobProfiles, "ocjob")
		args = []string{"build", "-o", j.job, "-overlay", overlay}
	}
	if out, err := exec.Command(gocmd, append(args, ocjobPackage)...).CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", ocjobPackage, err, out)
	}
	src := filepath.Join(j.dir, "runner", "main.go")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(src, []byte(usageRunner), 0o600); err != nil {
		return err
	}
	j.runner = filepath.Join(j.dir, "runner", "runner")
	if out, err := exec.Command(gocmd, "build", "-o", j.runner, src).CombinedOutput(); err != nil {
		return fmt.Errorf("go build of the runner: %w\n%s", err, out)
	}
	// The runner runs itself without arguments: it prints its usage and
	// exits at once, so its child's peak is the floor.
	usage, err := j.measure(j.runner)
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
	}
	j.floorRSS = usage.MaxRSSKiB << 10
	return nil
}

// measure runs name with args through the runner and returns its usage.
func (j *jobTools) measure(name string, args ...string) (processUsage, error) {
	var u processUsage
	file := filepath.Join(j.dir, "floor.json")
	cmd := exec.Command(j.runner, append([]string{file, name}, args...)...)
	err := cmd.Run()
	data, rerr := os.ReadFile(file)
	if rerr != nil {
		return u, errors.Join(err, rerr)
	}
	if jerr := json.Unmarshal(data, &u); jerr != nil {
		return u, errors.Join(err, jerr)
	}
	return u, err
}

// writeProfilingOverlay writes profilingMain and a go build overlay that
// puts it in place of cmd/ocjob/main.go (the benchmarks run in
// cmd/ocjob/config), and returns the overlay's path.
func writeProfilingOverlay(dir string) (string, error) {
	mainGo, err := filepath.Abs(filepath.Join("..", "main.go"))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(*jobProfiles, 0o755); err != nil {
		return "", err
	}
	replacement := filepath.Join(dir, "main.go")
	if err := os.WriteFile(replacement, []byte(profilingMain), 0o600); err != nil {
		return "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {mainGo: replacement}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, overlay, 0o600)
}

// profileEnv names the profiles of the next run of the benchmark b, when
// profiles are wanted.
func profileEnv(b *testing.B, run int) []string {
	if *jobProfiles == "" {
		return nil
	}
	name := strings.NewReplacer("/", "_", "=", "-").Replace(b.Name())
	return []string{
		envCPUProfile + "=" + filepath.Join(*jobProfiles, fmt.Sprintf("cpu-%s-%d.pprof", name, run)),
		envAllocProfile + "=" + filepath.Join(*jobProfiles, fmt.Sprintf("allocs-%s-%d.pprof", name, run)),
		envMemStats + "=" + filepath.Join(*jobProfiles, fmt.Sprintf("memstats-%s-%d.json", name, run)),
	}
}

// countingProxy forwards TCP connections to a server and counts the bytes
// the server sends back: the Director's answers, headers and framing
// included, as the job receives them. It copies bytes only, so it costs
// the benchmark process little CPU.
type countingProxy struct {
	ln       net.Listener
	upstream string
	down     atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newCountingProxy(b *testing.B, upstream string) *countingProxy {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p := &countingProxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p
}

// Addr is the proxy's host:port.
func (p *countingProxy) Addr() string { return p.ln.Addr().String() }

// Bytes returns the bytes sent back by the server since the last Reset.
func (p *countingProxy) Bytes() int64 { return p.down.Load() }

// Reset sets the byte counter to zero.
func (p *countingProxy) Reset() { p.down.Store(0) }

func (p *countingProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *countingProxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *countingProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.forward(client)
		}()
	}
}

// forward copies one connection both ways until either side closes it.
func (p *countingProxy) forward(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(client) || !p.track(server) {
		return
	}
	defer p.untrack(client)
	defer p.untrack(server)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	_, _ = io.Copy(countingWriter{w: client, n: &p.down}, server)
	client.Close()
	<-done
}

// Close stops the proxy, cuts every connection and waits for its
// goroutines.
func (p *countingProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

// lastLine is the last non-empty line of the kept text.
func (t *tailBuffer) lastLine() string {
	s := strings.TrimRight(string(t.buf), "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// jobPlatform is an Open Connectors fake and a Director fake (behind a
// counting proxy for the GraphQL endpoint; the token endpoint is reached
// directly), and a config file pointing the job at them.
type jobPlatform struct {
	oc       *octest.Server
	director *compasstest.Server
	proxy    *countingProxy
	dir      string
	config   string
	runs     int
}

func newJobPlatform(b *testing.B, n, specSize int) *jobPlatform {
	b.Helper()
	instances := make([]octest.Instance, n)
	for i := range instances {
		instances[i] = benchInstance(int64(i + 1))
	}
	p := &jobPlatform{
		oc:  octest.NewServer(octest.WithInstances(instances...), octest.WithSpecFunc(instanceSpec(specSize))),
		dir: b.TempDir(),
	}
	p.newDirector(b)
	return p
}

// newDirector replaces the Director (and its proxy) by an empty one and
// writes the config file for it.
func (p *jobPlatform) newDirector(b *testing.B) {
	b.Helper()
	if p.director != nil {
		p.proxy.Close()
		p.director.Close()
	}
	p.director = compasstest.NewServer(compasstest.WithDiscardSpecs())
	p.proxy = newCountingProxy(b, strings.TrimPrefix(p.director.URL, "http://"))
	doc := fmt.Sprintf(`{
  "logLevel": "Info",
  "logFormat": "json",
  "compass": {"directorURL": %q, "tokenUrl": %q, "tenantId": %q, "clientID": %q, "clientSecret": %q, "applicationPrefix": "oc"},
  "openConnectors": {"hostname": %q, "userSecret": %q, "organizationSecret": %q},
  "sync": {"concurrency": %d, "specRefreshInterval": %q}
}
`, "http://"+p.proxy.Addr()+compasstest.GraphQLPath, p.director.TokenURL(), compasstest.DefaultTenant,
		compasstest.DefaultClientID, compasstest.DefaultClientSecret, p.oc.URL, p.oc.UserSecret, p.oc.OrganizationSecret,
		procConcurrency, benchRefresh)
	p.config = filepath.Join(p.dir, "config.json")
	if err := os.WriteFile(p.config, []byte(doc), 0o600); err != nil {
		b.Fatal(err)
	}
}

func (p *jobPlatform) close() {
	p.proxy.Close()
	p.director.Close()
	p.oc.Close()
}

// setLatency makes both fakes delay every request by d (0: none).
func (p *jobPlatform) setLatency(d time.Duration) {
	p.oc.ClearFaults()
	if d > 0 {
		for _, ep := range []octest.Endpoint{octest.EndpointInstances, octest.EndpointInstance, octest.EndpointDocs} {
			p.oc.AddFault(ep, octest.Fault{Latency: d})
		}
	}
	p.director.SetLatency(d)
}

// jobRun is what one run of the job process cost.
type jobRun struct {
	wall          time.Duration
	cpu           time.Duration // user + system CPU of the job process
	fakesCPU      time.Duration // the same of the benchmark process meanwhile: the fakes and the proxy
	maxRSS        int64         // bytes
	ocCalls       int
	directorCalls int // token requests included
	directorOps   int // Director mutation operations
	// directorFields are the top-level fields the Director executed, each
	// alias as one: its work, which directorCalls hides.
	directorFields int
	created        int // the creates the run applied
	directorBytes  int64
	specFetches    int
	appsChanged    int
}

// selfCPU is the user and system CPU the benchmark process has used so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// jobEnv is the benchmark's environment without the variables the job
// would take secrets from.
func jobEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OCJOB_") {
			env = append(env, kv)
		}
	}
	return env
}

// run runs the job process once and fails the benchmark unless it exits 0
// with the wanted summary. With timed set, the benchmark timer runs
// exactly while the process does and both fakes inject procLatency;
// otherwise (setup) they inject none. The timer must be stopped on entry.
func (p *jobPlatform) run(b *testing.B, tools *jobTools, want ocsync.Summary, timed bool) jobRun {
	b.Helper()
	var before map[string]compasstest.Application
	if timed {
		before = appsByName(p.director)
		p.setLatency(procLatency)
	}
	p.oc.ResetCounts()
	p.director.ResetCounts()
	p.proxy.Reset()

	p.runs++
	usageFile := filepath.Join(p.dir, "usage.json")
	if err := os.Remove(usageFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		b.Fatal(err)
	}
	stdout, stderr := &tailBuffer{max: 4 << 10}, &tailBuffer{max: 16 << 10}
	cmd := exec.Command(tools.runner, usageFile, tools.job, "-config", p.config)
	cmd.Env = append(jobEnv(), profileEnv(b, p.runs)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if timed {
		b.StartTimer()
	}
	selfBefore := selfCPU(b)
	err := cmd.Run()
	fakesCPU := selfCPU(b) - selfBefore
	if timed {
		b.StopTimer()
		p.setLatency(0)
	}
	if err != nil {
		b.Fatalf("ocjob: %v\nend of stderr:\n%s\nend of stdout:\n%s", err, stderr, stdout)
	}
	if got, wantLine := stdout.lastLine(), "Summary: "+want.String()+"."; got != wantLine {
		b.Fatalf("ocjob printed %q, want %q", got, wantLine)
	}
	data, err := os.ReadFile(usageFile)
	if err != nil {
		b.Fatal(err)
	}
	var u processUsage
	if err := json.Unmarshal(data, &u); err != nil {
		b.Fatalf("the runner's usage: %v", err)
	}
	r := jobRun{
		wall:          time.Duration(u.WallNs),
		cpu:           time.Duration(u.UserNs + u.SystemNs),
		fakesCPU:      fakesCPU,
		maxRSS:        u.MaxRSSKiB << 10,
		ocCalls:       p.oc.Requests(),
		directorCalls: p.director.Requests(),
		directorBytes: p.proxy.Bytes(),
		specFetches:   p.oc.Count(octest.EndpointDocs),
		// The token endpoint is no GraphQL field.
		directorFields: p.director.FieldExecutions(),
		created:        want.Created,
	}
	for op, n := range p.director.Counts() {
		if !directorQueries[op] {
			r.directorOps += n
		}
	}
	if timed {
		r.appsChanged = changedApps(before, appsByName(p.director))
	}
	return r
}

// jobTotals sums the runs of one scenario and reports them per op.
type jobTotals struct {
	runs                       int
	items                      int // the scenario's items, summed over runs
	wall, bound, cpu, fakesCPU time.Duration
	maxRSS                     int64
	ocCalls, directorCalls     int
	mutations, directorOps     int
	directorFields, created    int
	specFetches, appsChanged   int
	directorBytes              int64
}

func (t *jobTotals) add(r jobRun, items, mutations int, bound time.Duration) {
	t.runs++
	t.items += items
	t.wall += r.wall
	t.bound += bound
	t.cpu += r.cpu
	t.fakesCPU += r.fakesCPU
	t.maxRSS = max(t.maxRSS, r.maxRSS)
	t.ocCalls += r.ocCalls
	t.directorCalls += r.directorCalls
	t.mutations += mutations
	t.directorOps += r.directorOps
	t.directorFields += r.directorFields
	t.created += r.created
	t.specFetches += r.specFetches
	t.appsChanged += r.appsChanged
	t.directorBytes += r.directorBytes
}

func (t *jobTotals) report(b *testing.B, tools *jobTools) {
	if t.runs == 0 {
		return
	}
	n := float64(t.runs)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(t.cpu)/float64(t.items), "job-cpu-ms/item")
	b.ReportMetric(ms(t.cpu)/n, "job-cpu-ms/op")
	b.ReportMetric(ms(t.fakesCPU)/n, "fakes-cpu-ms/op")
	b.ReportMetric(float64(t.maxRSS)/mib, "job-peak-rss-MiB")
	b.ReportMetric(float64(tools.floorRSS)/mib, "runner-floor-rss-MiB")
	b.ReportMetric(float64(t.wall)/float64(t.bound), "x-bound")
	b.ReportMetric(ms(t.bound)/n, "bound-ms/op")
	b.ReportMetric(float64(t.ocCalls+t.directorCalls)/n, "http-calls/op")
	b.ReportMetric(float64(t.ocCalls)/n, "oc-calls/op")
	b.ReportMetric(float64(t.directorCalls)/n, "director-calls/op")
	b.ReportMetric(float64(t.mutations)/n, "mutations/op")
	b.ReportMetric(float64(t.directorOps)/n, "director-mutations/op")
	b.ReportMetric(float64(t.directorFields)/n, "director-fields/op")
	if t.created > 0 {
		b.ReportMetric(float64(t.directorFields)/float64(t.created), "director-fields/created")
	}
	b.ReportMetric(float64(t.specFetches)/n, "spec-fetches/op")
	b.ReportMetric(float64(t.appsChanged)/n, "apps-changed/op")
	b.ReportMetric(float64(t.directorBytes)/n, "director-bytes/op")
}

// procRoundTrips is the time of n round trips of procLatency.
func procRoundTrips(n int) time.Duration { return time.Duration(n) * procLatency }

// listingRoundTrips is the unavoidable sequence of the two listings, which
// the engine runs at once: the Open Connectors pages of instances, and the
// token followed by the Director pages of apps applications (at least one,
// empty or not).
func listingRoundTrips(instances, apps int) int {
	return max(ceilDiv(instances, benchPageSize), 1+max(1, ceilDiv(apps, benchPageSize)))
}

// BenchmarkJob runs the ocjob binary against the fakes with 20 ms of
// latency and sync.concurrency 16, in the scenarios
//
//   - cold/instances=1000: 1000 instances with documents of about 20 KB
//     into an empty Director (a new one per op): 1000 creates;
//   - noop/instances=N (N = 1000, 5000): the same, already in sync (one
//     sync before the first op, without latency): nothing to do, which
//     every op checks;
//   - drift/instances=1000: per op a new platform, synced without latency,
//     then 10 % renamed, 10 % removed, 10 % added, 5 % with a new token and
//     1 % with a changed document (disjoint sets).
//
// Each op is one process. job-cpu-ms/item is the process's user and system
// CPU divided by the scenario's items: the creates (cold), the changes
// (drift) or the listed instances (no-op). job-peak-rss-MiB is the largest
// resident set of the process over all ops. x-bound is the wall time of the
// process over the round-trip bound: the listings (listingRoundTrips) and
// then the item round trips spread over 16 workers, each item's own
// requests one after the other. See docs/benchmarks.md.
func BenchmarkJob(b *testing.B) {
	tools := newJobTools(b)
	b.Run("cold/instances=1000", func(b *testing.B) { benchColdJob(b, tools, 1000, procSpecSize) })
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("noop/instances=%d", n), func(b *testing.B) { benchNoopJob(b, tools, n) })
	}
	b.Run("drift/instances=1000", func(b *testing.B) { benchDriftJob(b, tools, 1000) })
}

// BenchmarkJobMemory is the memory case: the ocjob binary creates 10 000
// instances with documents of about 100 KB at concurrency 16 (about 30 s
// per op; run it with -benchtime=1x).
func BenchmarkJobMemory(b *testing.B) {
	tools := newJobTools(b)
	b.Run("cold/instances=10000", func(b *testing.B) { benchColdJob(b, tools, 10000, procLargeSpecSize) })
}

// benchColdJob: n creates into a new, empty Director per op. Every item
// needs two round trips one after the other (GET docs,
// registerApplication).
func benchColdJob(b *testing.B, tools *jobTools, n, specSize int) {
	b.StopTimer()
	tools.get(b)
	p := newJobPlatform(b, n, specSize)
	defer p.close()
	bound := procRoundTrips(listingRoundTrips(n, 0) + 2*ceilDiv(n, procConcurrency))
	var t jobTotals
	first := true
	b.StartTimer()
	for b.Loop() {
		b.StopTimer()
		if !first {
			p.newDirector(b)
		}
		first = false
		r := p.run(b, tools, ocsync.Summary{Created: n}, true)
		if r.specFetches != n || r.appsChanged != n || r.directorOps != n {
			b.Fatalf("cold run: %d spec fetches, %d applications changed, %d Director mutations; want %d each",
				r.specFetches, r.appsChanged, r.directorOps, n)
		}
		// One registration per create, the one empty listing page, and a
		// name look-up of at most 5 % (one page of names here).
		if limit := n + n/compass.TakenShare + 1; r.directorFields > limit {
			b.Fatalf("cold run: the Director executed %d fields, more than %d", r.directorFields, limit)
		}
		t.add(r, n, n, bound)
		b.StartTimer()
	}
	t.report(b, tools)
}

// benchNoopJob: n instances already in sync; the job lists both sides
// (and fetches one token) and changes nothing.
func benchNoopJob(b *testing.B, tools *jobTools, n int) {
	b.StopTimer()
	tools.get(b)
	p := newJobPlatform(b, n, procSpecSize)
	defer p.close()
	p.run(b, tools, ocsync.Summary{Created: n}, false)
	bound := procRoundTrips(listingRoundTrips(n, n))
	var t jobTotals
	b.StartTimer()
	for b.Loop() {
		b.StopTimer()
		r := p.run(b, tools, ocsync.Summary{Unchanged: n}, true)
		if r.directorOps != 0 || r.specFetches != 0 || r.appsChanged != 0 {
			b.Fatalf("no-op run: %d Director mutations, %d spec fetches, %d applications changed", r.directorOps, r.specFetches, r.appsChanged)
		}
		t.add(r, n, 0, bound)
		b.StartTimer()
	}
	t.report(b, tools)
}

// respecified are the instances whose document changes in the drift
// scenario (disjoint from the other drift sets). The platform records the
// change in the instance's updatedDate, the instance's revision, which is
// what tells the job to fetch the document again before it is due.
func respecified(id int64) bool { return id%100 == 3 }

// benchDriftJob: renames, removals, additions, token rotations and a few
// changed documents.
//
// The bound's item round trips are the least the changes need, each
// item's one after the other: a create is a fetch and
// registerApplication; a removal unregisterApplication; a rename
// updateApplication, updateAPIDefinition (its name) and the state label;
// a new token updateBundle and the state label; a changed document a
// fetch, updateAPIDefinition with the document and the state label.
func benchDriftJob(b *testing.B, tools *jobTools, n int) {
	b.StopTimer()
	tools.get(b)
	var t jobTotals
	b.StartTimer()
	for b.Loop() {
		b.StopTimer()
		p := newJobPlatform(b, n, procSpecSize)
		p.run(b, tools, ocsync.Summary{Created: n}, false)
		renames, removes, adds, rotations := drift(p.oc, n)
		respecs := 0
		for id := int64(1); id <= int64(n); id++ {
			if respecified(id) {
				p.oc.SetSpec(id, octest.SwaggerDocument(fmt.Sprintf("instance-%d-v2", id), procSpecSize))
				p.oc.Update(id, func(in *octest.Instance) { in.UpdatedDate = 1_700_000_000_000 + id })
				respecs++
			}
		}
		updates := renames + rotations + respecs
		want := ocsync.Summary{Created: adds, Updated: updates, Deleted: removes, Unchanged: n - removes - updates}
		r := p.run(b, tools, want, true)
		p.close()

		changes := adds + updates + removes
		if r.appsChanged != changes {
			b.Fatalf("drift run: %d applications changed, want %d", r.appsChanged, changes)
		}
		if r.specFetches < adds+respecs || r.specFetches > adds+updates {
			b.Fatalf("drift run: %d spec fetches, want %d to %d", r.specFetches, adds+respecs, adds+updates)
		}
		items := 2*adds + removes + 3*renames + 2*rotations + 3*respecs
		bound := procRoundTrips(listingRoundTrips(n-removes+adds, n) + ceilDiv(items, procConcurrency))
		t.add(r, changes, changes, bound)
		b.StartTimer()
	}
	t.report(b, tools)
}
