package logctx

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestHandlerAddsContextAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := With(context.Background(), slog.String("requestId", "r-1"))
	ctx = With(ctx, slog.String("ip", "192.0.2.1"))
	log.InfoContext(ctx, "hello", "user", "melody")
	line := buf.String()
	for _, want := range []string{`"requestId":"r-1"`, `"ip":"192.0.2.1"`, `"user":"melody"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %s lacks %s", line, want)
		}
	}
	buf.Reset()
	log.InfoContext(context.Background(), "plain")
	if strings.Contains(buf.String(), "requestId") {
		t.Errorf("attributes leaked into an unrelated context: %s", buf.String())
	}
}
