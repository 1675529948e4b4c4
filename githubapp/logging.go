package githubapp

import (
	"context"
	"io"
	"log/slog"
)

type loggerKey struct{}

// WithLogger returns ctx carrying log.
func WithLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

// Logger returns the logger ctx carries; a logger that discards everything
// when it carries none.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// LogAttrs are the stable keys an event's log lines carry: delivery_id,
// event, action, installation_id, repo and sha (those that are set).
func (ev Event) LogAttrs() []any {
	attrs := []any{slog.String("delivery_id", ev.DeliveryID), slog.String("event", ev.Event)}
	if ev.Action != "" {
		attrs = append(attrs, slog.String("action", ev.Action))
	}
	if ev.InstallationID != 0 {
		attrs = append(attrs, slog.Int64("installation_id", ev.InstallationID))
	}
	if ev.Repo != "" {
		attrs = append(attrs, slog.String("repo", ev.Repo))
	}
	if ev.SHA != "" {
		attrs = append(attrs, slog.String("sha", ev.SHA))
	}
	return attrs
}
