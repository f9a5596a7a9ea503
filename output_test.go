package ocjob_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ocjob "github.com/kyma-incubator/open-connectors-job"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

func TestLoggerWritesDurationsInSeconds(t *testing.T) {
	log := func(format string) string {
		var b bytes.Buffer
		l := ocjob.NewLogger(&b, ocjob.LevelTrace, format, redact.NewScrubber())
		l.With(slog.Duration("interval", 5*time.Minute)).Log(t.Context(), ocjob.LevelTrace, "run finished",
			slog.Duration("duration", 1500*time.Millisecond), slog.Any("wait", 250*time.Millisecond),
			slog.Group("phases", slog.Duration("list", 2*time.Second)), slog.Int("attempt", 2))
		return b.String()
	}
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(log(ocjob.FormatJSON)), &rec))
	assert.Equal(t, 1.5, rec["duration"])
	assert.Equal(t, 0.25, rec["wait"])
	assert.Equal(t, 300.0, rec["interval"])
	assert.Equal(t, map[string]any{"list": 2.0}, rec["phases"])
	assert.Equal(t, 2.0, rec["attempt"], "other numbers stay as they are")
	assert.Equal(t, "TRACE", rec["level"])

	text := log(ocjob.FormatText)
	for _, want := range []string{"duration=1.5 ", "wait=0.25 ", "interval=300 ", "phases.list=2 ", "level=TRACE "} {
		assert.True(t, strings.Contains(text, want), "%q in %s", want, text)
	}
}
