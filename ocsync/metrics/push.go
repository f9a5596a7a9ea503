package metrics

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// ModeDryRun is the value of the mode grouping label of a dry run's push:
// a dry run pushes to a group of its own (see Pusher), so that it never
// replaces the metrics of the real runs.
const ModeDryRun = "dry_run"

// Push sends the registry to the Pushgateway at pushgatewayURL under the
// grouping key job="ocjob" (plus owner=<owner> when owner is set; the
// library encodes the values), in the Prometheus protobuf format, with an
// HTTP POST: the Pushgateway's Add, which replaces only the families the
// push carries. Every run carries every per-run family, so none of them
// keeps a value of an earlier run; but ocjob_last_success_timestamp_seconds
// is carried only once a run succeeded, so the Pushgateway keeps the time
// of the last success across failed runs. client nil means a client with
// the module's redirect policy. The push is bounded by PushTimeout and by
// ctx; only the first 64 KiB of an answer is read, and its text is quoted
// scrubbed by scrubber (nil: quoted as it is). A Pusher adds credentials,
// a CA bundle and the dry run's own group.
func (m *Metrics) Push(ctx context.Context, client *http.Client, pushgatewayURL, owner string, scrubber *redact.Scrubber) error {
	var grouping []string
	if owner != "" {
		grouping = []string{"owner", owner}
	}
	return m.push(ctx, client, pushgatewayURL, grouping, "", scrubber)
}

// push sends the registry to the group of grouping (label, value pairs
// after job), with authorization as the Authorization header when set.
func (m *Metrics) push(ctx context.Context, client *http.Client, pushgatewayURL string, grouping []string, authorization string, scrubber *redact.Scrubber) error {
	if client == nil {
		client = &http.Client{CheckRedirect: endpoint.CheckRedirect}
	}
	ctx, cancel := context.WithTimeout(ctx, PushTimeout)
	defer cancel()
	p := push.New(strings.TrimSuffix(pushgatewayURL, "/"), PushJob).Gatherer(m.Registry).
		Client(limitedDoer{c: client, authorization: authorization})
	for i := 0; i+1 < len(grouping); i += 2 {
		p = p.Grouping(grouping[i], grouping[i+1])
	}
	if err := p.AddContext(ctx); err != nil {
		return &pushError{msg: "push metrics: " + scrubber.Quote(err.Error()), err: err}
	}
	return nil
}

// pushError is a failed push with a quoted message over the library's error,
// so that errors.Is still sees a cancellation.
type pushError struct {
	msg string
	err error
}

func (e *pushError) Error() string { return e.msg }
func (e *pushError) Unwrap() error { return e.err }

// limitedDoer sets the Authorization header, when there is one, and cuts
// every answer's body at endpoint.MaxErrorBodyBytes: the push package reads
// an error answer whole into its message, and a Pushgateway's answer is
// untrusted.
type limitedDoer struct {
	c             *http.Client
	authorization string
}

func (d limitedDoer) Do(req *http.Request) (*http.Response, error) {
	if d.authorization != "" {
		req.Header.Set("Authorization", d.authorization)
	}
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, endpoint.MaxErrorBodyBytes), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// ParseURL checks a Pushgateway base URL and returns it without a trailing
// slash. A Pushgateway is usually an in-cluster service reached over plain
// http, so plain http is accepted for any host (Validate refuses it when
// credentials would travel in clear); otherwise the module's URL rules
// hold: no credentials, query or fragment in the URL. An error is a
// *remote.FieldError for the field "URL" that quotes no part of the value.
func ParseURL(raw string) (string, error) {
	const plain = "http://"
	check := raw
	isPlain := len(raw) >= len(plain) && strings.EqualFold(raw[:len(plain)], plain)
	if isPlain {
		check = "https://" + raw[len(plain):]
	}
	u, err := endpoint.ParseURL(check)
	if err != nil {
		return "", &remote.FieldError{Field: "URL", Problem: err.Error()}
	}
	if isPlain {
		u.Scheme = "http"
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// Pusher is an ocsync.Observer that pushes the metrics of every run that
// ends to a Pushgateway (see Metrics.Push): what a CronJob, which does not
// live to be scraped, reports with. A dry run pushes to a group of its own,
// with the grouping label mode="dry_run" (ModeDryRun) besides job and
// owner, so that it never replaces the metrics of the real runs (and their
// alerts' timers).
type Pusher struct {
	// URL is the Pushgateway's base URL (see ParseURL). Required.
	URL string
	// Owner becomes the owner grouping label when set, so that several
	// jobs do not overwrite each other's metrics.
	Owner string
	// Version is the version ocjob_build_info reports.
	Version string
	// Username and Password, when set, authenticate every push with HTTP
	// basic authentication.
	Username string
	// Password is the basic authentication password; it needs Username.
	Password redact.Secret
	// BearerToken, when set, authenticates every push with an
	// "Authorization: Bearer" header; not with Username and Password.
	BearerToken redact.Secret
	// RootCAs are the certificate authorities trusted for the
	// Pushgateway's TLS certificate; nil means the system's. Not with a
	// Client that has its own Transport.
	RootCAs *x509.CertPool
	// Client sends the push; nil means a client with the module's
	// redirect policy and transport (trusting RootCAs), whose idle
	// connections are closed after every push.
	Client *http.Client
	// Scrubber scrubs the quoted answer of a refused push, and learns the
	// credentials at every push (see RegisterSecrets); nil quotes it as it
	// is.
	Scrubber *redact.Scrubber
	// Logger receives a warning when a push fails; nil discards it.
	Logger *slog.Logger
}

// Validate reports every invalid field as a *remote.FieldError (joined with
// errors.Join; nil when p is valid). No problem quotes a secret.
func (p *Pusher) Validate() error {
	var errs []error
	add := func(field, problem string) {
		errs = append(errs, &remote.FieldError{Field: field, Problem: problem})
	}
	u, err := ParseURL(p.URL)
	if err != nil {
		errs = append(errs, err)
	}
	basic := p.Username != "" || p.Password != ""
	switch {
	case p.Username == "" && p.Password != "":
		add("Username", "is required with Password")
	case p.Username == "":
	case endpoint.CheckHeaderToken(p.Username) != nil:
		add("Username", endpoint.CheckHeaderToken(p.Username).Error())
	case strings.Contains(p.Username, ":"):
		add("Username", "must not contain a colon")
	}
	if basic && p.BearerToken != "" {
		add("BearerToken", "cannot be combined with Username and Password: choose one")
	}
	for _, s := range []struct {
		field string
		v     redact.Secret
	}{{"Password", p.Password}, {"BearerToken", p.BearerToken}} {
		switch {
		case s.v != "":
			if err := endpoint.CheckSecret(s.v.Reveal()); err != nil {
				add(s.field, err.Error())
			}
		case s.field == "Password" && p.Username != "":
			add("Password", "is required with Username")
		}
	}
	if err == nil && (basic || p.BearerToken != "") && strings.HasPrefix(u, "http://") && !endpoint.IsLoopback(hostname(u)) {
		add("URL", "plain http would send the credentials in clear: use https (plain http only without credentials or to a loopback address)")
	}
	if p.RootCAs != nil && p.Client != nil && p.Client.Transport != nil {
		add("RootCAs", "cannot be combined with a Client that has its own Transport")
	}
	return errors.Join(errs...)
}

// hostname is the host of a URL ParseURL accepted, without its port.
func hostname(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// RegisterSecrets adds the credentials to s, with the Authorization header
// values they make, so that no echo of them reaches an error or a log.
func (p *Pusher) RegisterSecrets(s *redact.Scrubber) {
	if pw := p.Password.Reveal(); pw != "" {
		s.Add(pw)
		s.AddCredential(p.authorization())
	}
	if t := p.BearerToken.Reveal(); t != "" {
		s.Add(t)
		s.AddCredential(p.authorization())
	}
}

// authorization is the Authorization header of every push; "" for none.
func (p *Pusher) authorization() string {
	switch {
	case p.BearerToken != "":
		return "Bearer " + p.BearerToken.Reveal()
	case p.Username != "" || p.Password != "":
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password.Reveal()))
	}
	return ""
}

// Progress does nothing: only ended runs are pushed.
func (p *Pusher) Progress(context.Context, ocsync.Progress) {}

// Finished records the run on the metrics of one run (NewMetrics) and
// pushes them, even when ctx is cancelled (bounded by PushTimeout): a dry
// run to its own group (mode="dry_run"). A failed push, or a Pusher that
// is not valid (see Validate), is logged at Warn: it never changes the
// run's outcome.
func (p *Pusher) Finished(ctx context.Context, o ocsync.RunOutcome) {
	err := p.Push(context.WithoutCancel(ctx), o)
	if err != nil && p.Logger != nil {
		p.Logger.LogAttrs(ctx, slog.LevelWarn, "pushing metrics failed", slog.String("error", err.Error()))
	}
}

// Push records the run o on the metrics of one run and pushes them (see
// Finished), and returns why that failed.
func (p *Pusher) Push(ctx context.Context, o ocsync.RunOutcome) error {
	p.RegisterSecrets(p.Scrubber)
	if err := p.Validate(); err != nil {
		return errors.Join(errors.New("push metrics: invalid Pusher"), err)
	}
	m := NewMetrics(p.Version)
	m.Observe(o)
	var grouping []string
	if p.Owner != "" {
		grouping = append(grouping, "owner", p.Owner)
	}
	if dryRun(o) {
		grouping = append(grouping, "mode", ModeDryRun)
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Transport: endpoint.Transport(p.RootCAs), CheckRedirect: endpoint.CheckRedirect}
		defer client.CloseIdleConnections()
	}
	return m.push(ctx, client, p.URL, grouping, p.authorization(), p.Scrubber)
}
