package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// progressRecord is one "progress" record the engine logged while applying:
// the attributes ocsync.Engine writes every Engine.ProgressInterval.
type progressRecord struct {
	done, total, failed int
	rate                float64
	eta                 time.Duration
}

// String renders the record the way the sandbox prints it.
func (p progressRecord) String() string {
	s := fmt.Sprintf("progress: %d of %d changes done, %d failed, %.1f changes/s", p.done, p.total, p.failed, p.rate)
	if p.done == 0 {
		return s + ", no estimate yet"
	}
	return s + fmt.Sprintf(", about %s left", p.eta)
}

// progressSink keeps the progress records of the current run.
type progressSink struct {
	mu      sync.Mutex
	records []progressRecord
}

// take returns the records kept since the last take and forgets them.
func (s *progressSink) take() []progressRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.records
	s.records = nil
	return out
}

func (s *progressSink) add(p progressRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, p)
}

// progressHandler is a slog.Handler in front of the job's log handler: it
// keeps every "progress" record at Info in its sink, so that the sandbox can
// show and check them, and passes every record the next handler wants on to
// it. (The engine logs its progress only through its Logger; there is no
// other way to observe it from outside.)
type progressHandler struct {
	next slog.Handler
	sink *progressSink
}

// Enabled is true for Info and above, where the progress records are, and
// for whatever the next handler wants.
func (h progressHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

// Handle keeps a progress record and passes r on when the next handler
// wants it.
func (h progressHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "progress" && r.Level == slog.LevelInfo {
		h.sink.add(decodeProgress(r))
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a handler keeping records in the same sink.
func (h progressHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return progressHandler{next: h.next.WithAttrs(attrs), sink: h.sink}
}

// WithGroup returns a handler keeping records in the same sink.
func (h progressHandler) WithGroup(name string) slog.Handler {
	return progressHandler{next: h.next.WithGroup(name), sink: h.sink}
}

// decodeProgress reads the attributes of a progress record; one of another
// kind than the engine writes is left at zero.
func decodeProgress(r slog.Record) progressRecord {
	var p progressRecord
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		switch {
		case v.Kind() == slog.KindInt64 && a.Key == "done":
			p.done = int(v.Int64())
		case v.Kind() == slog.KindInt64 && a.Key == "total":
			p.total = int(v.Int64())
		case v.Kind() == slog.KindInt64 && a.Key == "failed":
			p.failed = int(v.Int64())
		case v.Kind() == slog.KindFloat64 && a.Key == "rate":
			p.rate = v.Float64()
		case v.Kind() == slog.KindDuration && a.Key == "eta":
			p.eta = v.Duration()
		}
		return true
	})
	return p
}
