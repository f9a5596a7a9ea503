package openconnectors

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// Values of the mapping that never change.
const (
	// ProviderName is the provider name of every application.
	ProviderName = "SAP Open Connectors"
	// SpecType is the API type of every spec.
	SpecType = "OPEN_API"
	// SpecFormat is the document format of every spec.
	SpecFormat = "JSON"
	// MaxPrefixLen is the longest application prefix: "-" and any int64
	// instance id (19 digits) after it keep a name within 100 characters,
	// the name limit of the Director (which the compass Registry checks).
	MaxPrefixLen = 80
	// MaxOwnerLen is the longest SourceOptions.Owner.
	MaxOwnerLen = 63
)

var (
	_ ocsync.Source = (*Source)(nil)
	_ ocsync.Scoped = (*Source)(nil)
)

// ownerPattern is the rule of SourceOptions.Owner.
var ownerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// SourceOptions configures a Source.
type SourceOptions struct {
	// ApplicationPrefix starts every application name: <prefix>-<id>, the
	// naming of the original job. It must be lower-case letters, digits and
	// single dashes, start with a letter, not end with a dash, and be at
	// most MaxPrefixLen long, so that every name is valid for the Director
	// and unique under its name normalisation. Names of up to 36 characters
	// also pass the rule of Director versions older than 2021. Required.
	ApplicationPrefix string
	// Owner tells several syncs of one tenant apart (see ocsync.Scope): 1
	// to MaxOwnerLen letters, digits, '_', '.' or '-', starting with a
	// letter or digit. Empty means the sync without an owner.
	Owner string
}

// Validate reports every invalid option as an *remote.FieldError (field
// "ApplicationPrefix" or "Owner"), joined with errors.Join; nil when the
// options are valid. Problems never quote the value.
func (o SourceOptions) Validate() error {
	var errs []error
	if p := prefixProblem(o.ApplicationPrefix); p != "" {
		errs = append(errs, &remote.FieldError{Field: "ApplicationPrefix", Problem: p})
	}
	if o.Owner != "" && (len(o.Owner) > MaxOwnerLen || !ownerPattern.MatchString(o.Owner)) {
		errs = append(errs, &remote.FieldError{Field: "Owner", Problem: fmt.Sprintf(
			"must be 1 to %d letters, digits, '_', '.' or '-', starting with a letter or digit", MaxOwnerLen)})
	}
	return errors.Join(errs...)
}

func prefixProblem(p string) string {
	switch {
	case p == "":
		return "is required"
	case len(p) > MaxPrefixLen:
		return fmt.Sprintf("is longer than %d characters", MaxPrefixLen)
	case p[0] < 'a' || p[0] > 'z':
		return "must start with a lower-case letter"
	case strings.HasSuffix(p, "-"):
		return "must not end with a dash"
	case strings.Contains(p, "--"):
		return "must not contain consecutive dashes"
	}
	for _, r := range p {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return "may only hold lower-case letters, digits and dashes"
		}
	}
	return ""
}

// Source is the ocsync.Source of one Open Connectors tenant: one application
// per listed instance. It is safe for concurrent use.
type Source struct {
	client *Client
	opts   SourceOptions
}

// NewSource returns a Source reading through c. Invalid options are the
// errors of SourceOptions.Validate.
func NewSource(c *Client, opts SourceOptions) (*Source, error) {
	if c == nil {
		return nil, errors.New("openconnectors: NewSource: no client")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("openconnectors: source options: %w", err)
	}
	return &Source{client: c, opts: opts}, nil
}

// Context returns the client's context value: the host as configured (see
// Client.Context).
func (s *Source) Context() string { return s.client.Context() }

// Scope returns the applications this Source describes: the client's
// context and the configured owner.
func (s *Source) Scope() ocsync.Scope {
	return ocsync.Scope{Context: s.client.Context(), Owner: s.opts.Owner}
}

// Retries returns how many platform requests the Source's client retried so
// far (see Client.Retries).
func (s *Source) Retries() int64 { return s.client.Retries() }

// CloseIdleConnections closes the client's idle connections (see
// Client.CloseIdleConnections).
func (s *Source) CloseIdleConnections() { s.client.CloseIdleConnections() }

// Applications lists the instances and maps each to an application (see
// Source.Application). A failed listing is returned as it is (the engine
// reports it as ocsync.ErrListFailed), never with a partial list.
func (s *Source) Applications(ctx context.Context) ([]ocsync.Application, error) {
	instances, err := s.client.Instances(ctx)
	if err != nil {
		return nil, fmt.Errorf("openconnectors: %w", err)
	}
	apps := make([]ocsync.Application, 0, len(instances))
	for _, in := range instances {
		apps = append(apps, s.Application(in))
	}
	return apps, nil
}

// Application maps one instance per the product contract: name
// <prefix>-<id>, key the decimal id, description "SAP Open Connectors <E>:
// <N>" as sent (a registry cuts it to its own limit), status FAILED when the platform says the
// instance is disabled or not valid (CONNECTED otherwise), bundle the
// element key and API "<E>: <N>" as sent, target URL the client's base URL,
// revision the update date, and the credential "User <u>, Organization <o>,
// Element <token>".
//
// An instance that cannot be mapped (see Instance.Unusable) keeps only its
// Name and Key, with ocsync.Application.Unusable saying why, so the engine
// leaves its application exactly as it is.
func (s *Source) Application(in Instance) ocsync.Application {
	id := strconv.FormatInt(in.ID, 10)
	app := ocsync.Application{Name: s.opts.ApplicationPrefix + "-" + id, Key: id}
	if reason := in.Unusable(); reason != "" {
		app.Unusable = "instance " + id + ": " + reason
		return app
	}
	label := in.Element.Name + ": " + in.Name
	status := ocsync.StatusConnected
	if in.Disabled || !in.Valid {
		status = ocsync.StatusFailed
	}
	app.Attributes = ocsync.Attributes{
		Description:  "SAP Open Connectors " + label,
		ProviderName: ProviderName,
		Status:       status,
		Bundle:       in.Element.Key,
		API:          label,
		TargetURL:    s.client.BaseURL(),
		Revision:     in.UpdatedDate,
	}
	app.Credential = redact.Secret(s.client.auth + ", Element " + in.Token.Reveal())
	return app
}

// Spec loads the API document of app's instance (app.Key is the instance id).
func (s *Source) Spec(ctx context.Context, app ocsync.Application) (ocsync.Spec, error) {
	id, err := strconv.ParseInt(app.Key, 10, 64)
	if err != nil || id <= 0 {
		return ocsync.Spec{}, fmt.Errorf("openconnectors: application %s: key %q is not an instance id", app.Name, app.Key)
	}
	data, err := s.client.Docs(ctx, id)
	if err != nil {
		return ocsync.Spec{}, err
	}
	return ocsync.Spec{Type: SpecType, Format: SpecFormat, Data: data}, nil
}
