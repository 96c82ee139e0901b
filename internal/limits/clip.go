package limits

import (
	"context"
	"fmt"
	"log/slog"
	"unicode/utf8"
)

// Clip returns s when it is at most n bytes long, else its first bytes (cut
// at a rune boundary) followed by a note of the full length, so that a
// client's value echoed in an error or a log line costs at most about
// n+32 bytes.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// LogValueMax is the most bytes of one string value that LogHandler keeps.
const LogValueMax = 1024

// LogHandler wraps h so that every string value in a record (the message,
// attributes, groups and values already added with With) is clipped to
// max bytes (LogValueMax when max <= 0): a client's value that reaches a
// log line cannot make it large.
func LogHandler(h slog.Handler, max int) slog.Handler {
	if max <= 0 {
		max = LogValueMax
	}
	return &clipHandler{h: h, max: max}
}

type clipHandler struct {
	h   slog.Handler
	max int
}

func (c *clipHandler) Enabled(ctx context.Context, l slog.Level) bool { return c.h.Enabled(ctx, l) }

func (c *clipHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Clip(r.Message, c.max), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(c.clip(a))
		return true
	})
	return c.h.Handle(ctx, out)
}

func (c *clipHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clipped := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clipped[i] = c.clip(a)
	}
	return &clipHandler{h: c.h.WithAttrs(clipped), max: c.max}
}

func (c *clipHandler) WithGroup(name string) slog.Handler {
	return &clipHandler{h: c.h.WithGroup(name), max: c.max}
}

func (c *clipHandler) clip(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > c.max {
			return slog.String(a.Key, Clip(v.String(), c.max))
		}
		return slog.Attr{Key: a.Key, Value: v}
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = c.clip(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			if s := x.Error(); len(s) > c.max {
				return slog.String(a.Key, Clip(s, c.max))
			}
		case fmt.Stringer:
			if s := x.String(); len(s) > c.max {
				return slog.String(a.Key, Clip(s, c.max))
			}
		case []byte:
			if len(x) > c.max {
				return slog.String(a.Key, fmt.Sprintf("(%d bytes)", len(x)))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
