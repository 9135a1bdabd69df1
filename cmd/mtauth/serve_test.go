package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startServe runs `mtauth serve` in process on a free port and returns its
// base URL; the server stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	return startServeLogging(t, io.Discard, args...)
}

// startServeLogging is startServe with serve's log (its standard error)
// written to logs.
func startServeLogging(t *testing.T, logs io.Writer, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), w, logs)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	serving := regexp.MustCompile(`serving the Data API at (http://\S+?)/ `)
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := serving.FindStringSubmatch(lines.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return m[1]
		}
	}
	t.Fatalf("serve stopped before serving: %v", <-done)
	return ""
}

// readmeWalkthrough returns the shell block of README.md marked as the
// walk-through, so the README cannot drift from what mtauth does.
func readmeWalkthrough(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- walkthrough -->\n```sh\n")
	block, _, closed := strings.Cut(after, "\n```")
	if !ok || !closed {
		t.Fatal("README.md has no walk-through block")
	}
	return block
}

func TestReadmeWalkthroughAgainstServe(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the README's walk-through")
	}
	api := startServe(t, "--user", "melody:Nelson-1:melody-ws-secret")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", readmeWalkthrough(t))
	cmd.Env = append(os.Environ(), "API="+api)
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walk-through failed: %v\n%s", err, output)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\{"accessToken":"[0-9a-f]{40}","expiresIn":3600,"remember":false,"sessionId":"[0-9a-f]{40}"\}$`),
		regexp.MustCompile(`^token: [0-9a-f]{40}$`),
		regexp.MustCompile(`^\{"status":"success"\}$`),
		regexp.MustCompile(`^\{"error":\{"code":401,"message":"Unauthorized"\}\}$`),
		regexp.MustCompile(`^\{"status":"success"\}$`),
		regexp.MustCompile(`^\{"error":\{"code":401,"message":"Unauthorized"\}\}$`),
	}
	// curl prints bodies without a trailing newline; split them apart.
	got := regexp.MustCompile(`\}\{|\}token`).ReplaceAllStringFunc(strings.TrimSpace(string(output)), func(s string) string {
		return s[:1] + "\n" + s[1:]
	})
	lines := strings.Split(got, "\n")
	if len(lines) != len(want) {
		t.Fatalf("walk-through printed %d lines, want %d:\n%s", len(lines), len(want), got)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i+1, lines[i], re)
		}
	}
}

func TestServeCreatesAdminWhenNoUsers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, strings.NewReader(""), w, io.Discard)
		w.Close()
	}()
	var printed strings.Builder
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "serving the Data API") {
			break
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`created user admin[\s\S]*v1, v2\):\s+[0-9a-f]{32}[\s\S]*v3\.\.v7\):\s+[0-9a-f]{32}`).MatchString(printed.String()) {
		t.Fatalf("serve did not print the generated admin passwords:\n%s", printed.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"serve", "--user", "bad"}, {"serve", "extra"}, {"user"}, {"user", "add"}, {"table"}} {
		if err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); err == nil {
			t.Errorf("mtauth %v succeeded, want a usage error", args)
		}
	}
}
