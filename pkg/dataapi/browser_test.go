package dataapi

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCheckRedirect(t *testing.T) {
	const apiHost = "mt.example.com:8080"
	allowed := []string{"app.example.com", "blog.example.com:8443"}
	for _, tc := range []struct {
		raw      string
		ok       bool
		sameHost bool
	}{
		// The API's own host, port included: the "app" flow.
		{"http://mt.example.com:8080/app/", true, true},
		{"https://mt.example.com:8080/app?x=1", true, true},
		{"http://MT.Example.COM:8080/app", true, true},
		{"HTTP://mt.example.com:8080/app", true, true},
		// An allowed host: the "blog" flow. An allowed name without a port
		// allows every port; one with a port allows only that port.
		{"https://app.example.com/callback", true, false},
		{"https://app.example.com:9443/callback", true, false},
		{"https://APP.EXAMPLE.COM/callback", true, false},
		{"http://app.example.com", true, false},
		{"https://blog.example.com:8443/", true, false},
		{"https://Blog.Example.com:8443/#frag", true, false},

		// The API's own name on another port is another host.
		{"http://mt.example.com/app", false, false},
		{"http://mt.example.com:8081/app", false, false},
		{"https://blog.example.com/", false, false},
		{"https://blog.example.com:9443/", false, false},
		{"https://evil.example/", false, false},
		{"https://app.example.com.evil.example/", false, false},
		{"https://evil.example/app.example.com", false, false},
		{"https://evil.example/?next=https://app.example.com/", false, false},
		{"https://evil.example#@app.example.com", false, false},
		{"https://xapp.example.com/", false, false},
		{"https://app.example.com./", false, false},
		{"https://аpp.example.com/", false, false}, // Cyrillic а
		{"https://app.example.com@evil.example/", false, false},
		{"https://app.example.com:443@evil.example/", false, false},
		{"https://user:pw@app.example.com/", false, false},
		{"https://app.example.com%2F@evil.example/", false, false},
		{"//app.example.com/", false, false},
		{"//mt.example.com:8080/app", false, false},
		{"/app", false, false},
		{"app", false, false},
		{"https:/app.example.com/", false, false},
		{"https:app.example.com", false, false},
		{"javascript:alert(1)", false, false},
		{"JaVaScRiPt:alert(1)", false, false},
		{"javascript://app.example.com/%0aalert(1)", false, false},
		{"data:text/html,<script>alert(1)</script>", false, false},
		{"ftp://app.example.com/", false, false},
		{"file:///etc/passwd", false, false},
		{`https:\\evil.example`, false, false},
		{`https:\\app.example.com`, false, false},
		{`https://app.example.com\@evil.example`, false, false},
		{`https://app.example.com\.evil.example/`, false, false},
		{`https://app.example.com/\evil.example`, false, false},
		{`http://mt.example.com:8080/app\..\x`, false, false},
		{"https://app.example.com/\x00", false, false},
		{"https://app.example.com\t/", false, false},
		{"https://app.example.com/\n", false, false},
		{"https://app.example.com\r\n/", false, false},
		{"https://app.example.com /", false, false},
		{" https://app.example.com/", false, false},
		{"https://app.example.com/\x7f", false, false},
		{"", false, false},
	} {
		target, ok := checkRedirect(tc.raw, apiHost, allowed)
		if ok != tc.ok || target.sameHost != tc.sameHost {
			t.Errorf("checkRedirect(%q) = ok %v, sameHost %v; want ok %v, sameHost %v", tc.raw, ok, target.sameHost, tc.ok, tc.sameHost)
		}
		if ok && target.url == nil {
			t.Errorf("checkRedirect(%q) accepted it without a URL", tc.raw)
		}
	}
}

func TestCheckRedirectWithoutAllowedHosts(t *testing.T) {
	if _, ok := checkRedirect("https://app.example.com/", "mt.example.com", nil); ok {
		t.Error("another host was accepted with no hosts allowed")
	}
	if _, ok := checkRedirect("https://mt.example.com/", "", nil); ok {
		t.Error("a request without Host made a URL the API's own host")
	}
}

func TestRedirectTargetFragment(t *testing.T) {
	target, ok := checkRedirect("https://app.example.com/cb?x=1&y=%2F#state", "mt.example.com", []string{"app.example.com"})
	if !ok {
		t.Fatal("refused")
	}
	for fragment, want := range map[string]string{
		"_login":  "https://app.example.com/cb?x=1&y=%2F#_login",
		"_ott_ab": "https://app.example.com/cb?x=1&y=%2F#_ott_ab",
		"":        "https://app.example.com/cb?x=1&y=%2F",
	} {
		if got := target.with(fragment); got != want {
			t.Errorf("with(%q) = %q, want %q", fragment, got, want)
		}
	}
	if target.flow() != "blog" {
		t.Errorf("flow = %q, want blog", target.flow())
	}
}

func TestPrefersHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		// What browsers send when they navigate, a form post included.
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7": true,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8":                                                                         true,
		"text/html":      true,
		"TEXT/HTML":      true,
		"text/*":         true,
		"text/html, */*": true,
		"text/html;q=0.9, application/json;q=0.5": true,
		"application/json;q=0.1, text/html":       true,

		// fetch's and XMLHttpRequest's default, API clients, and no header.
		"*/*":                               false,
		"application/json":                  false,
		"application/json, */*":             false,
		"application/json, text/html":       false,
		"application/json, text/plain, */*": false,
		"text/html;q=0.5, application/json": false,
		"text/html;q=0.5, application/*":    false,
		"text/html;q=0":                     false,
		"text/plain":                        false,
		"":                                  false,
	} {
		if got := prefersHTML(accept); got != want {
			t.Errorf("prefersHTML(%q) = %v, want %v", accept, got, want)
		}
	}
}

// asSent renders c as a Set-Cookie header value and parses it back the
// way a browser would, so the tests see the attributes as sent.
func asSent(t *testing.T, c *http.Cookie) (string, *http.Cookie) {
	t.Helper()
	line := c.String()
	parsed, err := http.ParseSetCookie(line)
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", line, err)
	}
	return line, parsed
}

func TestUserCookie(t *testing.T) {
	plain := httptest.NewRequest(http.MethodPost, "/v4/authentication", nil)
	behindHTTPS := httptest.NewRequest(http.MethodPost, "/v4/authentication", nil)
	behindHTTPS.Header.Set("X-Forwarded-Proto", "https")
	sid := strings.Repeat("ab", 20)

	for _, tc := range []struct {
		name     string
		r        *http.Request
		remember bool
		username string
		secure   bool
		maxAge   int
	}{
		{"session cookie", plain, false, "melody", false, 0},
		{"remembered", plain, true, "melody", false, 365 * 24 * 3600},
		{"over https", behindHTTPS, false, "melody", true, 0},
		{"odd username", plain, true, "Melody Nelson::a;b,c=d\"é%", false, 365 * 24 * 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, c := asSent(t, userCookie(tc.r, "app_1-x", tc.username, sid, tc.remember))
			if c.Name != "mt_data_api_user_app_1-x" || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode ||
				c.Secure != tc.secure || c.MaxAge != tc.maxAge {
				t.Errorf("Set-Cookie %s: want HttpOnly, Path=/, SameSite=Lax, Secure %v, Max-Age %d", line, tc.secure, tc.maxAge)
			}
			if tc.username == "melody" {
				want := "melody::" + sid + "::" + map[bool]string{false: "0", true: "1"}[tc.remember]
				if c.Value != want {
					t.Errorf("value = %q, want %q", c.Value, want)
				}
			}
			// What the browser sends back names the same user and session.
			r := httptest.NewRequest(http.MethodPost, "/v4/token", nil)
			r.AddCookie(c)
			username, sessionID, ok := sessionFromCookie(r, "app_1-x")
			if !ok || username != tc.username || sessionID != sid {
				t.Errorf("read back %q, %q, %v; want %q, %q", username, sessionID, ok, tc.username, sid)
			}
			if _, _, ok := sessionFromCookie(r, "app_1"); ok {
				t.Error("the cookie was read for another clientId")
			}
		})
	}
}

func TestSessionFromCookieRefusesMalformed(t *testing.T) {
	for _, value := range []string{
		"",
		"melody",
		"melody::" + strings.Repeat("ab", 20),
		"melody::::0",
		"melody::abc::0::extra",
		"%zz::abc::0",
	} {
		r := httptest.NewRequest(http.MethodPost, "/v4/token", nil)
		r.AddCookie(&http.Cookie{Name: "mt_data_api_user_app", Value: value})
		if u, s, ok := sessionFromCookie(r, "app"); ok {
			t.Errorf("cookie %q read as user %q, session %q", value, u, s)
		}
	}
	if _, _, ok := sessionFromCookie(httptest.NewRequest(http.MethodPost, "/v4/token", nil), "app"); ok {
		t.Error("no cookie read as a session")
	}
}

func TestAccessTokenJSONCookie(t *testing.T) {
	answer := signInResponse{AccessToken: strings.Repeat("cd", 20), ExpiresIn: 3600, Remember: true}
	for _, https := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodPost, "/v4/authentication", nil)
		if https {
			r.Header.Set("X-Forwarded-Proto", "https")
		}
		line, c := asSent(t, accessTokenJSONCookie(r, answer))
		// The app's script reads it: not HttpOnly, and for every path.
		if c.Name != "mt_data_api_access_token" || c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Secure != https {
			t.Errorf("Set-Cookie %s: want script-readable, Path=/, SameSite=Lax, Secure %v", line, https)
		}
		if c.MaxAge != 0 {
			t.Errorf("Set-Cookie %s: want a browser-session cookie", line)
		}
		// decodeURIComponent in the app gives back the sign-in JSON.
		decoded, err := url.PathUnescape(c.Value)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(decoded), &got); err != nil {
			t.Fatalf("value %q: %v", c.Value, err)
		}
		if len(got) != 3 || got["accessToken"] != answer.AccessToken || got["expiresIn"] != 3600.0 || got["remember"] != true {
			t.Errorf("cookie JSON = %v, want accessToken, expiresIn, remember", got)
		}
	}
}

func TestExpiredCookie(t *testing.T) {
	r := httptest.NewRequest(http.MethodDelete, "/v4/authentication", nil)
	line, c := asSent(t, expiredCookie(r, "mt_data_api_user_app", true))
	if !strings.Contains(line, "Max-Age=0") || c.MaxAge >= 0 || c.Path != "/" || !c.HttpOnly || c.Value != "" {
		t.Errorf("Set-Cookie %s: want an empty HttpOnly cookie with Max-Age=0 on Path=/", line)
	}
}

func TestOverHTTPS(t *testing.T) {
	for proto, want := range map[string]bool{"https": true, "HTTPS": true, "http": false, "": false} {
		r := httptest.NewRequest(http.MethodGet, "/v4/authorization", nil)
		if proto != "" {
			r.Header.Set("X-Forwarded-Proto", proto)
		}
		if got := overHTTPS(r); got != want {
			t.Errorf("X-Forwarded-Proto %q: overHTTPS = %v, want %v", proto, got, want)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/v4/authorization", nil)
	r.TLS = &tls.ConnectionState{}
	if !overHTTPS(r) {
		t.Error("a TLS connection is not HTTPS")
	}
}
