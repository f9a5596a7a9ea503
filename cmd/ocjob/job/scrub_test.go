package job_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job"
	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

const logSecret = "log-SECRET-3e7a"

// valuer reveals the secret through slog.LogValuer.
type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("via valuer " + logSecret) }

// groupValuer reveals it in a group.
type groupValuer struct{}

func (groupValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("inner", logSecret), slog.Int("n", 1))
}

type detail struct {
	Token string
	N     int
}

func TestScrubHandler(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: config.LevelTrace})
			if format == "text" {
				h = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: config.LevelTrace})
			}
			log := slog.New(job.NewScrubHandler(h, ocsync.NewScrubber(logSecret)))
			log = log.With(slog.String("preset", logSecret)).WithGroup("g-" + logSecret)
			log.Error("message "+logSecret,
				slog.String("s", "a "+logSecret),
				slog.Group("grp", slog.String("deep", logSecret), slog.Group("deeper", slog.String("x", logSecret))),
				slog.Any("valuer", valuer{}),
				slog.Any("groupValuer", groupValuer{}),
				slog.Any("err", errors.New("failed: "+logSecret)),
				slog.Any("list", []string{"ok", logSecret}),
				slog.Any("struct", detail{Token: logSecret, N: 2}),
				slog.Any("map", map[string]string{"k": url.QueryEscape(logSecret)}),
				slog.Any("secret", ocsync.Secret(logSecret)),
				slog.Int("count", 7),
				slog.Any("plain", detail{Token: "harmless", N: 3}),
			)
			out := buf.String()
			assert.NotContains(t, out, logSecret)
			assert.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte(logSecret)))
			assert.Contains(t, out, "count")
			assert.Contains(t, out, "harmless", "values without a secret are kept")
			if format == "json" {
				// message, preset, group name, s, deep, x, valuer, inner,
				// err, list, struct, map, secret.
				assert.Equal(t, 13, strings.Count(out, ocsync.Scrubbed), out)
				assert.Contains(t, out, `"list":["ok","[redacted]"]`, "a list stays a list")
				assert.Contains(t, out, `"plain":{"Token":"harmless","N":3}`, "a struct without a secret stays a struct")
			}
		})
	}
	t.Run("nil scrubber and levels", func(t *testing.T) {
		var buf bytes.Buffer
		h := job.NewScrubHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), nil)
		assert.False(t, h.Enabled(context.Background(), slog.LevelInfo))
		assert.True(t, h.Enabled(context.Background(), slog.LevelError))
		slog.New(h).Warn("plain " + logSecret)
		assert.Contains(t, buf.String(), logSecret, "nothing known, nothing scrubbed")
	})
}

func TestNewScrubber(t *testing.T) {
	cfg := &config.Config{
		Compass: config.Compass{ClientID: "client id", ClientSecret: "client-SECRET-&=1"},
		OpenConnectors: config.OpenConnectors{
			UserSecret: "user-SECRET-77", OrganizationSecret: "org-SECRET-88",
		},
	}
	s := job.NewScrubber(cfg)
	for _, secret := range []string{
		"client-SECRET-&=1", "user-SECRET-77", "org-SECRET-88",
		"User user-SECRET-77, Organization org-SECRET-88",
		base64.StdEncoding.EncodeToString([]byte("client id:client-SECRET-&=1")),
		base64.StdEncoding.EncodeToString([]byte("client+id:client-SECRET-%26%3D1")),
	} {
		assert.Equal(t, ocsync.Scrubbed, s.Scrub(secret), secret)
	}
	assert.Equal(t, "client id", s.Scrub("client id"), "the client id is no secret")
	require.NotNil(t, job.NewScrubber(nil))
}

func TestScrubReport(t *testing.T) {
	plan := &ocsync.Plan{Changes: []ocsync.Change{{
		Kind: ocsync.KindUpdate, Name: "oc-1", Reason: "because " + logSecret,
		Old: &ocsync.Attributes{Description: "old " + logSecret}, New: &ocsync.Attributes{Description: "new"},
	}}}
	rep := &ocsync.Report{Plan: plan, Results: []ocsync.Result{{Kind: ocsync.KindUpdate, Name: "oc-1", Outcome: ocsync.OutcomeFailed, Error: "echo " + logSecret}}}
	clean := job.ScrubReport(rep, ocsync.NewScrubber(logSecret))
	assert.Equal(t, "echo [redacted]", clean.Results[0].Error)
	assert.Equal(t, "because [redacted]", clean.Plan.Changes[0].Reason)
	assert.Equal(t, "old [redacted]", clean.Plan.Changes[0].Old.Description)
	assert.Equal(t, "new", clean.Plan.Changes[0].New.Description)
	assert.Contains(t, rep.Results[0].Error, logSecret, "the report itself is left as it is")
	assert.Contains(t, rep.Plan.Changes[0].Old.Description, logSecret)
	assert.Nil(t, job.ScrubReport(nil, ocsync.NewScrubber(logSecret)))
	assert.Same(t, rep, job.ScrubReport(rep, nil))
}
