package redact_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/stretchr/testify/assert"
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

func TestHandler(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug - 4})
			if format == "text" {
				h = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug - 4})
			}
			log := slog.New(redact.NewHandler(h, redact.NewScrubber(logSecret)))
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
				slog.Any("secret", redact.Secret(logSecret)),
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
				assert.Equal(t, 13, strings.Count(out, redact.Placeholder), out)
				assert.Contains(t, out, `"list":["ok","[redacted]"]`, "a list stays a list")
				assert.Contains(t, out, `"plain":{"Token":"harmless","N":3}`, "a struct without a secret stays a struct")
			}
		})
	}
	t.Run("nil scrubber and levels", func(t *testing.T) {
		var buf bytes.Buffer
		h := redact.NewHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), nil)
		assert.False(t, h.Enabled(context.Background(), slog.LevelInfo))
		assert.True(t, h.Enabled(context.Background(), slog.LevelError))
		slog.New(h).Warn("plain " + logSecret)
		assert.Contains(t, buf.String(), logSecret, "nothing known, nothing scrubbed")
	})
}
