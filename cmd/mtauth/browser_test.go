package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// browserTests is where the real-browser tests live: a node package
// pinning playwright-core, which drives Debian's chromium.
const browserTests = "testdata/browser"

// chromiumPath is Debian's chromium; nothing downloads a browser of its own.
const chromiumPath = "/usr/bin/chromium"

// needBrowser returns node's path, or skips the test with a notice when
// chromium, node or playwright-core is missing. In CI (CI=true) a missing
// piece fails the test instead: there the browser tests must run.
func needBrowser(t *testing.T) string {
	t.Helper()
	var missing []string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath+" (apt-get install -y chromium)")
	}
	if _, err := os.Stat(filepath.Join(browserTests, "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "playwright-core (npm ci --prefix cmd/mtauth/"+browserTests+")")
	}
	if len(missing) == 0 {
		return node
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the browser tests must run in CI, but these are missing: %q", missing)
	}
	t.Skipf("notice: browser tests skipped, missing %q", missing)
	return ""
}

// appPage serves every path as a small page titled "App", standing for a
// web app on another origin.
var appPage = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>App</title><h1>App</h1></html>\n"))
})

// localhostOrigin serves h and returns its origin under the name
// localhost, so that it is another host than the API's 127.0.0.1.
func localhostOrigin(t *testing.T, h http.Handler) (origin, host string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	host = "localhost:" + u.Port()
	return "http://" + host, host
}

// TestBrowser runs testdata/browser/signin.test.mjs against `mtauth serve`
// in chromium: the same-host and other-host sign-ins with and without
// JavaScript, a failed sign-in, CORS and framing. It leaves screenshots of
// the sign-in screen in build/screenshots/.
func TestBrowser(t *testing.T) {
	node := needBrowser(t)
	app, appHost := localhostOrigin(t, appPage)
	other, _ := localhostOrigin(t, appPage)
	t.Setenv("MTAUTH_REDIRECT_HOSTS", appHost)
	t.Setenv("MTAUTH_CORS_ALLOW_ORIGIN", app)
	api := startServe(t, "--user", "melody:Nelson-1:melody-ws-secret")
	screenshots, err := filepath.Abs("../../build/screenshots")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "signin.test.mjs")
	cmd.Dir = browserTests
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(os.Environ(),
		"MTAUTH_API="+api,
		"MTAUTH_APP_ORIGIN="+app,
		"MTAUTH_OTHER_ORIGIN="+other,
		"MTAUTH_USER=melody",
		"MTAUTH_PASSWORD=melody-ws-secret",
		"MTAUTH_SCREENSHOTS="+screenshots,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test signin.test.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}
