package dataapi_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mtauth/mtauth/pkg/apigw/apigwtest"
	"github.com/mtauth/mtauth/pkg/dataapi"
)

// These tests follow a browser through the sign-in screen of section 6
// and the CORS rules of section 7, with the events API Gateway sends.

const (
	// gatewayHost is the API's own host as API Gateway hands it over.
	gatewayHost = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
	// appPage is an app on the API's own host (the "app" flow).
	appPage = "https://" + gatewayHost + "/app/signed-in?tab=1"
	// blogHost is the allowed other host (the "blog" flow).
	blogHost = "blog.example.com"
	blogPage = "https://" + blogHost + "/signed-in"
	// navigationAccept is what Chromium sends when it submits a form.
	navigationAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)

var gatewayURL = &url.URL{Scheme: "https", Host: gatewayHost, Path: "/"}

// newBrowserEnv is mtauth allowing redirects to blogHost, with vars as
// further settings, and the user melody, whose password it returns.
func newBrowserEnv(t *testing.T, vars map[string]string) (*env, string) {
	t.Helper()
	all := map[string]string{"MTAUTH_REDIRECT_HOSTS": "www.example.org, " + blogHost}
	for k, v := range vars {
		all[k] = v
	}
	e := newEnv(t, all)
	return e, e.signInUser(t, "melody")
}

// invokeBrowser is invoke for answers that may be HTML pages: the same
// decoding and security headers; a body is either sorted JSON or a UTF-8
// HTML page.
func invokeBrowser(t *testing.T, fn lambda.Handler, c call) answer {
	t.Helper()
	resp := invokeSecure(t, fn, c)
	a := answer{status: resp.Status, header: resp.Header, body: resp.Body}
	switch contentType := a.header.Get("Content-Type"); {
	case resp.Base64:
		t.Errorf("%s %s: body is base64-encoded", c.method, c.path)
	case a.body == "":
	case contentType == "application/json":
		if !keysSorted(a.body) {
			t.Errorf("%s %s: keys of %s are not sorted", c.method, c.path, a.body)
		}
	case contentType != "text/html; charset=utf-8":
		t.Errorf("%s %s: Content-Type = %q", c.method, c.path, contentType)
	}
	return a
}

// visitor is one browser: it reaches the API through API Gateway over
// HTTPS, keeps the cookies the API sets and sends them back.
type visitor struct {
	fn  lambda.Handler
	jar *cookiejar.Jar
}

func (e *env) newVisitor() *visitor {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &visitor{fn: e.fn, jar: jar}
}

// do sends c with the browser's cookies and keeps the answer's.
func (v *visitor) do(t *testing.T, c call) answer {
	t.Helper()
	c = c.withHeader("Host", gatewayHost).withHeader("X-Forwarded-Proto", "https")
	if cookies := v.jar.Cookies(gatewayURL); len(cookies) > 0 {
		c = c.withHeader("Cookie", cookieHeader(cookies))
	}
	a := invokeBrowser(t, v.fn, c)
	v.jar.SetCookies(gatewayURL, setCookies(t, a))
	return a
}

// cookie returns the value the browser holds for name.
func (v *visitor) cookie(name string) (string, bool) {
	for _, c := range v.jar.Cookies(gatewayURL) {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// open loads the sign-in screen.
func (v *visitor) open(t *testing.T, version int, clientID, redirectURL string) answer {
	t.Helper()
	return v.do(t, authorization(version, clientID, redirectURL))
}

func authorization(version int, clientID, redirectURL string) call {
	return request(http.MethodGet, fmt.Sprintf("/v%d/authorization", version)).
		withQuery("clientId", clientID).withQuery("redirectUrl", redirectURL)
}

func cookieHeader(cookies []*http.Cookie) string {
	pairs := make([]string, len(cookies))
	for i, c := range cookies {
		pairs[i] = c.Name + "=" + c.Value
	}
	return strings.Join(pairs, "; ")
}

// setCookies parses an answer's Set-Cookie headers as a browser does.
func setCookies(t *testing.T, a answer) []*http.Cookie {
	t.Helper()
	var cookies []*http.Cookie
	for _, line := range a.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		cookies = append(cookies, c)
	}
	return cookies
}

// setCookie returns the answer's Set-Cookie of name, or nil.
func setCookie(t *testing.T, a answer, name string) *http.Cookie {
	t.Helper()
	for _, c := range setCookies(t, a) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// typeInto returns what the screen's form posts once the credentials are
// typed in: its hidden fields, username, password and the remember box.
func typeInto(t *testing.T, page answer, username, pw string, remember bool) url.Values {
	t.Helper()
	form := url.Values{"username": {username}, "password": {pw}}
	for _, name := range []string{"clientId", "mtDataApiLoginMagicToken", "redirect_type", "redirectUrl"} {
		form.Set(name, hidden(t, page.body, name))
	}
	if remember {
		form.Set("remember", "1")
	}
	return form
}

// hidden returns the value of the page's hidden input name.
func hidden(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<input type="hidden" name="` + regexp.QuoteMeta(name) + `" value="([^"]*)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no hidden %s:\n%s", name, page)
	}
	return html.UnescapeString(m[1])
}

// scriptPost is the screen's script posting the form (FormData is
// multipart); plainPost is the browser posting it without script.
func scriptPost(version int, form url.Values) call {
	return postMultipart(fmt.Sprintf("/v%d/authentication", version), form).
		withHeader("X-Requested-With", "XMLHttpRequest").withHeader("Accept", "application/json")
}

func plainPost(version int, form url.Values) call {
	return post(fmt.Sprintf("/v%d/authentication", version), form).withHeader("Accept", navigationAccept)
}

// csp returns the page's Content-Security-Policy by directive.
func csp(t *testing.T, a answer) map[string][]string {
	t.Helper()
	policy := a.header.Values("Content-Security-Policy")
	if len(policy) != 1 {
		t.Fatalf("Content-Security-Policy = %q, want one", policy)
	}
	directives := map[string][]string{}
	for _, d := range strings.Split(policy[0], ";") {
		if fields := strings.Fields(d); len(fields) > 0 {
			directives[fields[0]] = fields[1:]
		}
	}
	return directives
}

var (
	tagWithNonce = regexp.MustCompile(`<(script|style)\b([^>]*)>`)
	// Anything that would load from elsewhere, or leave the page.
	external = regexp.MustCompile(`(?i)\b(src|href|srcset|action|formaction|poster|data)\s*=\s*["']?\s*([a-z]+:|//)|url\(|@import|<(link|img|iframe|object|embed|base|meta http-equiv)\b`)
	inputTag = regexp.MustCompile(`<input\b[^>]*>`)
	labelFor = regexp.MustCompile(`<label\b[^>]*\bfor="([^"]+)"[^>]*>([^<]*)</label>`)
)

// attr returns the value of attribute name in an HTML start tag.
func attr(tag, name string) string {
	m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1]
}

// screen is what a sign-in screen must show.
type screen struct {
	status        int
	clientID      string
	flow          string // redirect_type: app or blog
	redirectURL   string
	passwordLabel string
	origin        string // of the redirect URL, allowed in form-action
}

// wantScreen checks a is the sign-in screen: the form and its fields, its
// labels, a strict Content Security Policy whose nonce is on the page's
// only script and style, and nothing loaded from anywhere. It returns the
// magic token in the form.
func wantScreen(t *testing.T, a answer, want screen) string {
	t.Helper()
	if a.status != want.status || a.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("got %d %s %s, want the sign-in screen with %d", a.status, a.header.Get("Content-Type"), a.body, want.status)
	}
	policy := csp(t, a)
	nonce := strings.TrimSuffix(strings.TrimPrefix(strings.Join(policy["script-src"], " "), "'nonce-"), "'")
	if len(nonce) < 16 || strings.ContainsAny(nonce, " '") {
		t.Fatalf("script-src %q: want only a nonce", policy["script-src"])
	}
	for directive, sources := range map[string][]string{
		"default-src": {"'none'"}, "frame-ancestors": {"'none'"}, "base-uri": {"'none'"},
		"script-src": {"'nonce-" + nonce + "'"}, "style-src": {"'nonce-" + nonce + "'"},
	} {
		if !slices.Equal(policy[directive], sources) {
			t.Errorf("CSP %s = %q, want %q", directive, policy[directive], sources)
		}
	}
	if actions := policy["form-action"]; !slices.Contains(actions, "'self'") || !slices.Contains(actions, want.origin) || len(actions) != 2 {
		t.Errorf("CSP form-action = %q, want 'self' and %s only", actions, want.origin)
	}
	tags := tagWithNonce.FindAllStringSubmatch(a.body, -1)
	if len(tags) != 2 {
		t.Errorf("page has %d script and style elements, want one of each", len(tags))
	}
	for _, tag := range tags {
		if attr(tag[2], "nonce") != nonce || attr(tag[2], "src") != "" {
			t.Errorf("<%s%s> does not carry the CSP nonce %s", tag[1], tag[2], nonce)
		}
	}
	if m := external.FindString(a.body); m != "" {
		t.Errorf("page refers to something outside itself: %q", m)
	}
	if strings.Contains(a.body, "tabindex") {
		t.Error("page changes the focus order with tabindex")
	}

	if !regexp.MustCompile(`<form\b[^>]*\bmethod="post"[^>]*\baction="authentication"`).MatchString(a.body) {
		t.Error("page has no form posting to authentication")
	}
	if got := hidden(t, a.body, "clientId"); got != want.clientID {
		t.Errorf("hidden clientId = %q, want %q", got, want.clientID)
	}
	if got := hidden(t, a.body, "redirect_type"); got != want.flow {
		t.Errorf("hidden redirect_type = %q, want %q", got, want.flow)
	}
	if got := hidden(t, a.body, "redirectUrl"); got != want.redirectURL {
		t.Errorf("hidden redirectUrl = %q, want %q", got, want.redirectURL)
	}
	magic := hidden(t, a.body, "mtDataApiLoginMagicToken")
	if !hex40.MatchString(magic) {
		t.Errorf("magic token %q, want 40 hex digits", magic)
	}

	// Every field a person fills in has a label: one naming it with for=,
	// or one around it. Fields come in the order they are filled in.
	labels := map[string]string{}
	for _, m := range labelFor.FindAllStringSubmatch(a.body, -1) {
		labels[m[1]] = strings.TrimSpace(m[2])
	}
	var order []string
	for _, tag := range inputTag.FindAllString(a.body, -1) {
		if attr(tag, "type") == "hidden" {
			continue
		}
		id := attr(tag, "id")
		order = append(order, attr(tag, "name"))
		wrapped := regexp.MustCompile(`<label\b[^>]*>\s*` + regexp.QuoteMeta(tag) + `[^<]*\S[^<]*</label>`).MatchString(a.body)
		if _, ok := labels[id]; (id == "" || !ok) && !wrapped {
			t.Errorf("input %s has no label", tag)
		}
	}
	if !slices.Equal(order, []string{"username", "password", "remember"}) {
		t.Errorf("fields in order %q, want username, password, remember", order)
	}
	if labels["username"] != "Username" || labels["password"] != want.passwordLabel {
		t.Errorf("labels %q, want Username and %q", labels, want.passwordLabel)
	}
	for _, m := range inputTag.FindAllString(a.body, -1) {
		if attr(m, "name") == "password" && (attr(m, "type") != "password" || attr(m, "value") != "") {
			t.Errorf("password field %s: want type password and no value", m)
		}
		if attr(m, "name") == "remember" && (attr(m, "type") != "checkbox" || attr(m, "value") != "1") {
			t.Errorf("remember field %s: want a checkbox of value 1", m)
		}
	}
	if !regexp.MustCompile(`<button\b[^>]*type="submit"`).MatchString(a.body) {
		t.Error("page has no submit button")
	}
	return magic
}

// wantMagicCookie checks a sets the magic-token cookie to magic.
func wantMagicCookie(t *testing.T, a answer, magic string, secure bool) {
	t.Helper()
	c := setCookie(t, a, "mt_data_api_login_magic_token")
	if c == nil || c.Value != magic || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || c.MaxAge != 0 {
		t.Errorf("Set-Cookie %q: want mt_data_api_login_magic_token=%s, HttpOnly, SameSite=Lax, Path=/, Secure %v", a.header.Values("Set-Cookie"), magic, secure)
	}
}

// wantInvalidParameter checks a is the "Invalid parameter." page: 400,
// no form, no redirect, no cookie.
func wantInvalidParameter(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusBadRequest || a.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(a.body, "Invalid parameter.") {
		t.Errorf("got %d %s %s, want 400 and the Invalid parameter. page", a.status, a.header.Get("Content-Type"), a.body)
	}
	if strings.Contains(strings.ToLower(a.body), "<form") || a.header.Get("Location") != "" || len(a.header.Values("Set-Cookie")) > 0 {
		t.Errorf("the Invalid parameter. page has a form, a Location or a cookie: %v %s", a.header, a.body)
	}
	if policy := csp(t, a); !slices.Equal(policy["frame-ancestors"], []string{"'none'"}) {
		t.Errorf("CSP frame-ancestors = %q", policy["frame-ancestors"])
	}
}

func TestSignInScreen(t *testing.T) {
	e, _ := newBrowserEnv(t, nil)
	for version := 1; version <= 7; version++ {
		t.Run(fmt.Sprint("v", version), func(t *testing.T) {
			label := "Web services password"
			if version <= 2 {
				label = "Password"
			}
			a := e.newVisitor().open(t, version, "my-app_1", appPage)
			magic := wantScreen(t, a, screen{http.StatusOK, "my-app_1", "app", appPage, label, "https://" + gatewayHost})
			wantMagicCookie(t, a, magic, true)
		})
	}
	t.Run("other host", func(t *testing.T) {
		a := e.newVisitor().open(t, 4, "app", blogPage+"?x=1#top")
		magic := wantScreen(t, a, screen{http.StatusOK, "app", "blog", blogPage + "?x=1", "Web services password", "https://" + blogHost})
		wantMagicCookie(t, a, magic, true)
	})
	t.Run("other host, another port", func(t *testing.T) {
		a := e.newVisitor().open(t, 4, "app", "https://blog.example.com:8080/x")
		wantScreen(t, a, screen{http.StatusOK, "app", "blog", "https://blog.example.com:8080/x", "Web services password", "https://blog.example.com:8080"})
	})
	t.Run("plain HTTP redirect refused over HTTPS", func(t *testing.T) {
		for _, target := range []string{"http://blog.example.com:8080/x", "http://" + gatewayHost + "/app"} {
			wantInvalidParameter(t, e.newVisitor().open(t, 4, "app", target))
		}
	})
	t.Run("secure only over HTTPS", func(t *testing.T) {
		a := invokeBrowser(t, e.fn, authorization(4, "app", "http://"+gatewayHost+"/app").withHeader("Host", gatewayHost))
		magic := wantScreen(t, a, screen{http.StatusOK, "app", "app", "http://" + gatewayHost + "/app", "Web services password", "http://" + gatewayHost})
		wantMagicCookie(t, a, magic, false)
	})
	t.Run("a new magic token each time", func(t *testing.T) {
		v := e.newVisitor()
		first := hidden(t, v.open(t, 4, "app", appPage).body, "mtDataApiLoginMagicToken")
		second := hidden(t, v.open(t, 4, "app", appPage).body, "mtDataApiLoginMagicToken")
		if first == second {
			t.Error("two visits got the same magic token")
		}
		if got, _ := v.cookie("mt_data_api_login_magic_token"); got != second {
			t.Errorf("cookie %q, want the latest token %q", got, second)
		}
	})
	t.Run("redirect URL is escaped", func(t *testing.T) {
		hostile := appPage + `&q="><script>alert(1)</script>'onmouseover=alert(2)`
		a := e.newVisitor().open(t, 4, "app", hostile)
		if strings.Contains(a.body, "<script>alert") || strings.Contains(a.body, "'onmouseover") {
			t.Errorf("the redirect URL reached the page unescaped:\n%s", a.body)
		}
		if a.status == http.StatusOK && hidden(t, a.body, "redirectUrl") != hostile {
			t.Errorf("hidden redirectUrl = %q, want %q", hidden(t, a.body, "redirectUrl"), hostile)
		}
	})
}

func TestSignInScreenRefusesRedirects(t *testing.T) {
	e, _ := newBrowserEnv(t, nil)
	for _, redirect := range []string{
		"https://evil.example/",
		"https://" + gatewayHost + ".evil.example/",
		"https://" + blogHost + ".evil.example/",
		"https://evil.example/" + gatewayHost,
		"https://evil.example/" + blogHost,
		"https://" + gatewayHost + "@evil.example/",
		"https://" + blogHost + "@evil.example/",
		"https://" + gatewayHost + ":443@evil.example/",
		"//" + gatewayHost + "/app",
		"//" + blogHost + "/",
		"/app",
		"app",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"javascript://" + gatewayHost + "/%0aalert(1)",
		"data:text/html,<script>alert(1)</script>",
		"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
		`https:\\evil.example`,
		`https:\\` + gatewayHost,
		`https://` + gatewayHost + `\@evil.example`,
		`https://` + blogHost + `\@evil.example/`,
		`https://` + gatewayHost + `/\evil.example`,
		"https://" + gatewayHost + "/\x00",
		"https://" + gatewayHost + "\t/app",
		"https://" + gatewayHost + "/app\n",
		"https://" + gatewayHost + "\r\n/app",
		"https://" + gatewayHost + " /app",
		" https://" + gatewayHost + "/app",
		"ftp://" + gatewayHost + "/",
		"ftp://" + blogHost + "/",
		"https://" + gatewayHost + ":8443/app",
		"https://" + gatewayHost + "./app",
	} {
		t.Run(fmt.Sprintf("%q", redirect), func(t *testing.T) {
			wantInvalidParameter(t, e.newVisitor().open(t, 4, "app", redirect))
		})
	}
	for name, c := range map[string]call{
		"no clientId":    request(http.MethodGet, "/v4/authorization").withQuery("redirectUrl", appPage),
		"no redirectUrl": request(http.MethodGet, "/v4/authorization").withQuery("clientId", "app"),
		"nothing":        request(http.MethodGet, "/v4/authorization"),
		"empty both":     authorization(4, "", ""),
		"clientId 0":     authorization(4, "0", appPage),
		"bad clientId":   authorization(4, "my app", appPage),
		"bad clientId 2": authorization(4, "app<script>", appPage),
	} {
		t.Run(name, func(t *testing.T) { wantInvalidParameter(t, e.newVisitor().do(t, c)) })
	}
}

func TestSignInScreenWithAccessToken(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	s := e.signIn(t, "melody", pw)
	// The global check applies to the screen too.
	wantError(t, e.newVisitor().do(t, authorization(4, "app", appPage).auth(bearer("0000"))), http.StatusUnauthorized, "Unauthorized")
	// Visiting while signed in creates nothing (Movable Type makes an
	// unused token).
	before := e.items(t)
	a := e.newVisitor().do(t, authorization(4, "app", appPage).auth(bearer(s.token)))
	wantScreen(t, a, screen{http.StatusOK, "app", "app", appPage, "Web services password", "https://" + gatewayHost})
	if after := e.items(t); after != before {
		t.Errorf("the table went from %d to %d items", before, after)
	}
}

// userCookieName is the browser's session cookie for clientId app.
const userCookieName = "mt_data_api_user_app"

// wantUserCookie checks a sets the user cookie for melody and returns the
// session id in it.
func wantUserCookie(t *testing.T, a answer, remember bool) string {
	t.Helper()
	c := setCookie(t, a, userCookieName)
	if c == nil {
		t.Fatalf("no Set-Cookie %s in %q", userCookieName, a.header.Values("Set-Cookie"))
	}
	parts := strings.Split(c.Value, "::")
	wantRemember, wantMaxAge := "0", 0
	if remember {
		wantRemember, wantMaxAge = "1", 365*24*3600
	}
	if len(parts) != 3 || parts[0] != "melody" || !hex40.MatchString(parts[1]) || parts[2] != wantRemember {
		t.Errorf("%s = %q, want melody::<sessionId>::%s", userCookieName, c.Value, wantRemember)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !c.Secure || c.MaxAge != wantMaxAge || c.RawExpires != "" {
		t.Errorf("Set-Cookie %s: want HttpOnly, SameSite=Lax, Path=/, Secure, Max-Age %d", c, wantMaxAge)
	}
	if magic := setCookie(t, a, "mt_data_api_login_magic_token"); magic == nil || magic.MaxAge >= 0 {
		t.Errorf("the magic-token cookie was not expired: %q", a.header.Values("Set-Cookie"))
	}
	if len(parts) == 3 {
		return parts[1]
	}
	return ""
}

// tokenByCookie asks POST /v4/token for a token with clientId and the
// visitor's cookies only.
func (v *visitor) tokenByCookie(t *testing.T, clientID string) answer {
	t.Helper()
	return v.do(t, post("/v4/token", url.Values{"clientId": {clientID}}))
}

func TestAppFlowWithScript(t *testing.T) {
	for _, remember := range []bool{false, true} {
		t.Run(fmt.Sprint("remember ", remember), func(t *testing.T) {
			e, pw := newBrowserEnv(t, nil)
			v := e.newVisitor()
			page := v.open(t, 4, "app", appPage)
			a := v.do(t, scriptPost(4, typeInto(t, page, "melody", pw, remember)))
			body := wantOK(t, a)
			if keys := topKeys(t, a.body); !slices.Equal(keys, []string{"accessToken", "expiresIn", "remember"}) {
				t.Errorf("sign-in answered keys %q, want no sessionId", keys)
			}
			if body["remember"] != remember || body["expiresIn"] != 3600.0 || !hex40.MatchString(fmt.Sprint(body["accessToken"])) {
				t.Errorf("sign-in answered %s", a.body)
			}
			sessionID := wantUserCookie(t, a, remember)
			if _, held := v.cookie("mt_data_api_login_magic_token"); held {
				t.Error("the browser still holds the magic token")
			}
			// The cookie names the real session, and POST /token finds it.
			e.mintOK(t, "MTAuth sessionId="+sessionID)
			token := wantOK(t, v.tokenByCookie(t, "app"))
			if !hex40.MatchString(fmt.Sprint(token["accessToken"])) || token["expiresIn"] != 3600.0 || len(token) != 2 {
				t.Errorf("POST /token with the cookie answered %v", token)
			}
			e.mintOK(t, bearer(fmt.Sprint(token["accessToken"])))
			e.mintOK(t, bearer(fmt.Sprint(body["accessToken"])))
		})
	}
}

func TestMagicTokenMismatch(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	page := e.newVisitor().open(t, 4, "app", appPage)
	form := typeInto(t, page, "melody", pw, false)
	otherMagic := hidden(t, e.newVisitor().open(t, 4, "app", appPage).body, "mtDataApiLoginMagicToken")
	emptied := url.Values{}
	for k, v := range form {
		emptied[k] = v
	}
	emptied.Set("mtDataApiLoginMagicToken", "")
	for name, c := range map[string]call{
		"no cookie":            scriptPost(4, form),
		"no cookie, plain":     plainPost(4, form),
		"another cookie":       scriptPost(4, form).withHeader("Cookie", "mt_data_api_login_magic_token="+otherMagic),
		"another cookie, post": plainPost(4, form).withHeader("Cookie", "mt_data_api_login_magic_token="+otherMagic),
		"empty token posted":   scriptPost(4, emptied).withHeader("Cookie", "mt_data_api_login_magic_token="),
		"no token posted":      scriptPost(4, signInForm("melody", pw)).withHeader("Cookie", "mt_data_api_login_magic_token="+otherMagic),
	} {
		t.Run(name, func(t *testing.T) {
			c = c.withHeader("Host", gatewayHost).withHeader("X-Forwarded-Proto", "https")
			a := invokeBrowser(t, e.fn, c)
			wantOK(t, a)
			if keys := topKeys(t, a.body); !slices.Equal(keys, []string{"accessToken", "expiresIn", "remember", "sessionId"}) {
				t.Errorf("answered keys %q, want the ordinary sign-in answer", keys)
			}
			if cookies := a.header.Values("Set-Cookie"); len(cookies) > 0 || a.header.Get("Location") != "" {
				t.Errorf("answered Set-Cookie %q, Location %q; want neither", cookies, a.header.Get("Location"))
			}
		})
	}
}

func TestAppFlowWithoutScript(t *testing.T) {
	for _, remember := range []bool{false, true} {
		t.Run(fmt.Sprint("remember ", remember), func(t *testing.T) {
			e, pw := newBrowserEnv(t, nil)
			v := e.newVisitor()
			page := v.open(t, 4, "app", appPage)
			a := v.do(t, plainPost(4, typeInto(t, page, "melody", pw, remember)))
			if a.status != http.StatusSeeOther || a.header.Get("Location") != appPage+"#_login" {
				t.Fatalf("got %d Location %q, want 303 to %s#_login", a.status, a.header.Get("Location"), appPage)
			}
			wantUserCookie(t, a, remember)
			c := setCookie(t, a, "mt_data_api_access_token")
			if c == nil || c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || !c.Secure {
				t.Fatalf("Set-Cookie mt_data_api_access_token %v: want script-readable, Path=/, SameSite=Lax, Secure", c)
			}
			decoded, err := url.PathUnescape(c.Value)
			if err != nil {
				t.Fatal(err)
			}
			if keys := topKeys(t, decoded); !slices.Equal(keys, []string{"accessToken", "expiresIn", "remember"}) {
				t.Errorf("cookie holds keys %q, want accessToken, expiresIn, remember", keys)
			}
			var held struct {
				AccessToken string `json:"accessToken"`
				ExpiresIn   int    `json:"expiresIn"`
				Remember    bool   `json:"remember"`
			}
			if err := json.Unmarshal([]byte(decoded), &held); err != nil || !hex40.MatchString(held.AccessToken) ||
				held.ExpiresIn != 3600 || held.Remember != remember {
				t.Errorf("cookie JSON %s (%v)", decoded, err)
			}
			e.mintOK(t, bearer(held.AccessToken))
			wantOK(t, v.tokenByCookie(t, "app"))
		})
	}
}

// A post from anywhere but the screen in this browser (a cross-site form
// carries no SameSite=Lax cookie) gets the plain JSON answers: no cookie,
// no redirect, no page, whatever the form asks for.
func TestPlainPostWithoutMagicToken(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	for _, flow := range []string{"app", "blog"} {
		for _, password := range []string{pw, "wrong"} {
			redirect := map[string]string{"app": appPage, "blog": blogPage}[flow]
			form := typeInto(t, e.newVisitor().open(t, 4, "app", redirect), "melody", password, false)
			a := invokeBrowser(t, e.fn, plainPost(4, form).withHeader("Host", gatewayHost).withHeader("X-Forwarded-Proto", "https"))
			if a.header.Get("Location") != "" || len(a.header.Values("Set-Cookie")) > 0 || a.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s flow, password %q: got %d %v %s; want JSON without cookie or redirect", flow, password, a.status, a.header, a.body)
			}
		}
	}
}

func TestPlainPostRedirectsOnlyToTheCheckedURL(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	for _, flow := range []string{"app", "blog"} {
		for _, redirect := range []string{"https://evil.example/", "javascript:alert(1)", "//evil.example/", ""} {
			v := e.newVisitor()
			form := typeInto(t, v.open(t, 4, "app", appPage), "melody", pw, false)
			form.Set("redirect_type", flow)
			form.Set("redirectUrl", redirect)
			a := v.do(t, plainPost(4, form))
			if loc := a.header.Get("Location"); loc != "" || a.status/100 == 3 {
				t.Errorf("%s flow, redirectUrl %q: got %d Location %q, want no redirect", flow, redirect, a.status, loc)
			}
		}
	}
}

func TestFailedSignIn(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	for _, version := range []int{2, 4} {
		t.Run(fmt.Sprint("plain post v", version), func(t *testing.T) {
			label := map[int]string{2: "Password", 4: "Web services password"}[version]
			v := e.newVisitor()
			page := v.open(t, version, "app", appPage)
			magic := hidden(t, page.body, "mtDataApiLoginMagicToken")
			a := v.do(t, plainPost(version, typeInto(t, page, "melody", "wrong-password", true)))
			again := wantScreen(t, a, screen{http.StatusUnauthorized, "app", "app", appPage, label, "https://" + gatewayHost})
			if !regexp.MustCompile(`<p\b[^>]*role="alert"[^>]*>Invalid login\.</p>`).MatchString(a.body) ||
				regexp.MustCompile(`<p\b[^>]*role="alert"[^>]*\bhidden\b`).MatchString(a.body) {
				t.Errorf("the failure page does not show Invalid login.:\n%s", a.body)
			}
			if strings.Contains(a.body, "wrong-password") {
				t.Error("the failure page shows the password")
			}
			if !regexp.MustCompile(`name="username" value="melody"`).MatchString(a.body) ||
				!regexp.MustCompile(`name="remember" value="1" checked`).MatchString(a.body) {
				t.Error("the failure page forgot the username or the remember box")
			}
			if again != magic || len(a.header.Values("Set-Cookie")) > 0 || a.header.Get("Location") != "" {
				t.Errorf("failure: magic token %q (want %q), Set-Cookie %q, Location %q", again, magic, a.header.Values("Set-Cookie"), a.header.Get("Location"))
			}
			if version == 4 {
				// The screen shown again works.
				ok := v.do(t, plainPost(version, typeInto(t, a, "melody", pw, false)))
				if ok.status != http.StatusSeeOther || ok.header.Get("Location") != appPage+"#_login" {
					t.Errorf("signing in from the failure page: %d %q", ok.status, ok.header.Get("Location"))
				}
			}
		})
	}
	t.Run("script post", func(t *testing.T) {
		v := e.newVisitor()
		a := v.do(t, scriptPost(4, typeInto(t, v.open(t, 4, "app", appPage), "melody", "wrong", false)))
		wantError(t, a, http.StatusUnauthorized, "Invalid login")
		if len(a.header.Values("Set-Cookie")) > 0 {
			t.Errorf("Set-Cookie %q on a failed sign-in", a.header.Values("Set-Cookie"))
		}
	})
	t.Run("unknown user, blog flow", func(t *testing.T) {
		v := e.newVisitor()
		page := v.open(t, 4, "app", blogPage)
		a := v.do(t, plainPost(4, typeInto(t, page, "nobody", pw, false)))
		wantScreen(t, a, screen{http.StatusUnauthorized, "app", "blog", blogPage, "Web services password", "https://" + blogHost})
		if !strings.Contains(a.body, "Invalid login.") {
			t.Error("no Invalid login. on the page")
		}
		wantError(t, v.do(t, scriptPost(4, typeInto(t, page, "melody", "", false))), http.StatusUnauthorized, "Invalid login")
	})
}

// oneTimeTokenOf checks a is {"oneTimeToken": ...} and returns the token.
func oneTimeTokenOf(t *testing.T, a answer) string {
	t.Helper()
	body := wantOK(t, a)
	token := fmt.Sprint(body["oneTimeToken"])
	if len(body) != 1 || !hex40.MatchString(token) {
		t.Fatalf("answered %s, want just a oneTimeToken of 40 hex digits", a.body)
	}
	return token
}

func exchange(token string) call {
	return post("/v4/token", nil).auth("MTAuth oneTimeToken=" + token)
}

// wantExchanged checks a is the whole sign-in answer for melody's new
// session and that its token works.
func (e *env) wantExchanged(t *testing.T, a answer, remember bool) {
	t.Helper()
	body := wantOK(t, a)
	if keys := topKeys(t, a.body); !slices.Equal(keys, []string{"accessToken", "expiresIn", "remember", "sessionId"}) {
		t.Errorf("exchange answered keys %q, want all four", keys)
	}
	if body["remember"] != remember || body["expiresIn"] != 3600.0 || !hex40.MatchString(fmt.Sprint(body["sessionId"])) {
		t.Errorf("exchange answered %s", a.body)
	}
	e.mintOK(t, bearer(fmt.Sprint(body["accessToken"])))
	e.mintOK(t, "MTAuth sessionId="+fmt.Sprint(body["sessionId"]))
}

func TestBlogFlow(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	blogSignIn := func(remember bool) call {
		form := signInForm("melody", pw)
		form.Set("redirect_type", "blog")
		if remember {
			form.Set("remember", "1")
		}
		return post("/v4/authentication", form)
	}

	t.Run("API client", func(t *testing.T) {
		token := oneTimeTokenOf(t, e.invoke(t, blogSignIn(true)))
		e.wantExchanged(t, e.invoke(t, exchange(token)), true)
		wantError(t, e.invoke(t, exchange(token)), http.StatusUnauthorized, "Unauthorized")
	})
	t.Run("stored hashed", func(t *testing.T) {
		token := oneTimeTokenOf(t, e.invoke(t, blogSignIn(false)))
		out, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.app.Settings.TableName})
		if err != nil {
			t.Fatal(err)
		}
		if dump := fmt.Sprintf("%#v", out.Items); strings.Contains(dump, token) {
			t.Error("the one-time token is stored as it is")
		}
	})
	t.Run("expires after 5 minutes", func(t *testing.T) {
		early := oneTimeTokenOf(t, e.invoke(t, blogSignIn(false)))
		late := oneTimeTokenOf(t, e.invoke(t, blogSignIn(false)))
		e.clock.Advance(5*time.Minute - time.Second)
		e.wantExchanged(t, e.invoke(t, exchange(early)), false)
		e.clock.Advance(2 * time.Second)
		wantError(t, e.invoke(t, exchange(late)), http.StatusUnauthorized, "Unauthorized")
	})
	t.Run("unknown token", func(t *testing.T) {
		wantError(t, e.invoke(t, exchange(strings.Repeat("0", 40))), http.StatusUnauthorized, "Unauthorized")
		wantError(t, e.invoke(t, exchange("")), http.StatusUnauthorized, "Unauthorized")
	})
	t.Run("wrong password", func(t *testing.T) {
		form := signInForm("melody", "wrong")
		form.Set("redirect_type", "blog")
		wantError(t, e.invoke(t, post("/v4/authentication", form)), http.StatusUnauthorized, "Invalid login")
	})
	t.Run("screen with script", func(t *testing.T) {
		v := e.newVisitor()
		a := v.do(t, scriptPost(4, typeInto(t, v.open(t, 4, "app", blogPage), "melody", pw, false)))
		e.wantExchanged(t, e.invoke(t, exchange(oneTimeTokenOf(t, a))), false)
	})
	t.Run("screen without script", func(t *testing.T) {
		v := e.newVisitor()
		a := v.do(t, plainPost(4, typeInto(t, v.open(t, 4, "app", blogPage+"?p=2"), "melody", pw, true)))
		location := a.header.Get("Location")
		token, found := strings.CutPrefix(location, blogPage+"?p=2#_ott_")
		if a.status != http.StatusSeeOther || !found || !hex40.MatchString(token) {
			t.Fatalf("got %d Location %q, want 303 to %s?p=2#_ott_<token>", a.status, location, blogPage)
		}
		if c := setCookie(t, a, "mt_data_api_access_token"); c != nil {
			t.Error("the blog flow set the app's access-token cookie")
		}
		e.wantExchanged(t, e.invoke(t, exchange(token)), true)
		wantError(t, e.invoke(t, exchange(token)), http.StatusUnauthorized, "Unauthorized")
	})
}

func TestOneTimeTokenConcurrentExchange(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	form := signInForm("melody", pw)
	form.Set("redirect_type", "blog")
	token := oneTimeTokenOf(t, e.invoke(t, post("/v4/authentication", form)))

	// Each attempt reaches its own instance of the function, as concurrent
	// requests reach separate Lambda execution environments (a
	// lambda.Handler serves one invocation at a time), over one table.
	const attempts = 20
	statuses := make([]int, attempts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		fn := e.function(dataapi.GetToken)
		wg.Go(func() {
			<-start
			resp, err := apigwtest.Invoke(t.Context(), fn, exchange(token).event())
			if err != nil {
				t.Errorf("attempt %d: %v", i, err)
			}
			statuses[i] = resp.Status
		})
	}
	close(start)
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusOK] != 1 || counts[http.StatusUnauthorized] != attempts-1 {
		t.Errorf("statuses %v, want one 200 and %d 401", counts, attempts-1)
	}
}

func TestUserCookieOnToken(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	e.signInUser(t, "eve")
	v := e.newVisitor()
	sessionID := wantUserCookie(t, v.do(t, scriptPost(4, typeInto(t, v.open(t, 4, "app", appPage), "melody", pw, false))), false)
	wantOK(t, v.tokenByCookie(t, "app"))

	for name, c := range map[string]call{
		"no clientId":      post("/v4/token", nil).withHeader("Cookie", userCookieName+"=melody::"+sessionID+"::0"),
		"another clientId": post("/v4/token", url.Values{"clientId": {"other"}}).withHeader("Cookie", "mt_data_api_user_other=melody::"+sessionID+"::0"),
		"cookie of app for other": post("/v4/token", url.Values{"clientId": {"other"}}).
			withHeader("Cookie", userCookieName+"=melody::"+sessionID+"::0"),
		"another username": post("/v4/token", url.Values{"clientId": {"app"}}).withHeader("Cookie", userCookieName+"=eve::"+sessionID+"::0"),
		"username case":    post("/v4/token", url.Values{"clientId": {"app"}}).withHeader("Cookie", userCookieName+"=Melody::"+sessionID+"::0"),
		"another session": post("/v4/token", url.Values{"clientId": {"app"}}).
			withHeader("Cookie", userCookieName+"=melody::"+strings.Repeat("a", 40)+"::0"),
		"malformed": post("/v4/token", url.Values{"clientId": {"app"}}).withHeader("Cookie", userCookieName+"="+sessionID),
		// The cookie is not a credential for signing out or revoking.
		"sign out": request(http.MethodDelete, "/v4/authentication").withQuery("clientId", "app").
			withHeader("Cookie", userCookieName+"=melody::"+sessionID+"::0"),
		"revoke": request(http.MethodDelete, "/v4/token").withQuery("clientId", "app").
			withHeader("Cookie", userCookieName+"=melody::"+sessionID+"::0"),
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, e.invoke(t, c.withHeader("Host", gatewayHost)), http.StatusUnauthorized, "Unauthorized")
		})
	}
	// None of that harmed the session.
	wantOK(t, v.tokenByCookie(t, "app"))
}

func TestSignOutClearsUserCookie(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	v := e.newVisitor()
	a := v.do(t, scriptPost(4, typeInto(t, v.open(t, 4, "app", appPage), "melody", pw, true)))
	token := fmt.Sprint(wantOK(t, a)["accessToken"])
	held, _ := v.cookie(userCookieName)

	out := v.do(t, request(http.MethodDelete, "/v4/authentication").withQuery("clientId", "app").auth(bearer(token)))
	wantSuccess(t, out)
	c := setCookie(t, out, userCookieName)
	if c == nil || c.MaxAge >= 0 || c.Value != "" || c.Path != "/" || !c.HttpOnly {
		t.Errorf("sign-out Set-Cookie %q: want %s expired", out.header.Values("Set-Cookie"), userCookieName)
	}
	if _, still := v.cookie(userCookieName); still {
		t.Error("the browser still holds the user cookie")
	}
	// A copy of the old cookie no longer works.
	wantError(t, e.invoke(t, post("/v4/token", url.Values{"clientId": {"app"}}).withHeader("Cookie", userCookieName+"="+held)),
		http.StatusUnauthorized, "Unauthorized")
	wantError(t, v.tokenByCookie(t, "app"), http.StatusUnauthorized, "Unauthorized")
}

// corsHeaders returns the answer's CORS headers.
func corsHeaders(a answer) http.Header {
	h := http.Header{}
	for name, values := range a.header {
		if strings.HasPrefix(name, "Access-Control-") || name == "Xdomainrequestallowed" || name == "Vary" {
			h[name] = values
		}
	}
	return h
}

// corsCases are requests of every kind, good and bad, each with an Origin.
func corsCases(pw string) map[string]call {
	return map[string]call{
		"sign-in":         post("/v4/authentication", signInForm("melody", pw)),
		"failed sign-in":  post("/v4/authentication", signInForm("melody", "wrong")),
		"bad clientId":    post("/v4/authentication", url.Values{"clientId": {"0"}}),
		"token refused":   post("/v4/token", nil).auth(bearer("nope")),
		"unknown verb":    request(http.MethodGet, "/v4/token"),
		"bad version":     request(http.MethodPost, "/v9/token"),
		"no version":      request(http.MethodPost, "/token"),
		"sign-in screen":  authorization(4, "app", appPage).withHeader("Host", gatewayHost),
		"refused screen":  authorization(4, "app", "https://evil.example/"),
		"sign out":        request(http.MethodDelete, "/v4/authentication").auth(bearer("nope")),
		"method override": post("/v4/token", url.Values{"__method": {"DELETE"}}),
	}
}

func TestCORSOffByDefault(t *testing.T) {
	e, pw := newBrowserEnv(t, nil)
	cases := corsCases(pw)
	cases["preflight"] = request(http.MethodOptions, "/v4/token").withHeader("Access-Control-Request-Method", "POST")
	for name, c := range cases {
		a := invokeBrowser(t, e.fn, c.withHeader("Origin", "https://app.example.com"))
		if h := corsHeaders(a); len(h) > 0 {
			t.Errorf("%s: CORS headers %v with CORS off", name, h)
		}
	}
}

func TestCORSAllowedOrigins(t *testing.T) {
	e, pw := newBrowserEnv(t, map[string]string{"MTAUTH_CORS_ALLOW_ORIGIN": "https://app.example.com, http://localhost:8080"})
	for name, c := range corsCases(pw) {
		for _, origin := range []string{"https://app.example.com", "http://localhost:8080"} {
			a := invokeBrowser(t, e.fn, c.withHeader("Origin", origin))
			want := http.Header{
				"Access-Control-Allow-Origin":   {origin},
				"Access-Control-Allow-Methods":  {"*"},
				"Access-Control-Allow-Headers":  {"X-MT-Authorization, X-Requested-With"},
				"Access-Control-Expose-Headers": {"X-MT-Next-Phase-URL"},
				"Xdomainrequestallowed":         {"1"},
				"Vary":                          {"Origin"},
			}
			if got := corsHeaders(a); !headersEqual(got, want) {
				t.Errorf("%s from %s (%d): CORS headers %v, want %v", name, origin, a.status, got, want)
			}
		}
		for _, origin := range []string{"", "https://evil.example", "https://APP.example.com", "https://app.example.com/",
			"https://app.example.com:443", "http://app.example.com", "null", "https://app.example.com.evil.example"} {
			cc := c
			if origin != "" {
				cc = c.withHeader("Origin", origin)
			}
			a := invokeBrowser(t, e.fn, cc)
			if got := corsHeaders(a); !headersEqual(got, http.Header{"Vary": {"Origin"}}) {
				t.Errorf("%s from %q: CORS headers %v, want only Vary: Origin", name, origin, got)
			}
		}
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	e, pw := newBrowserEnv(t, map[string]string{"MTAUTH_CORS_ALLOW_ORIGIN": "*"})
	for name, c := range corsCases(pw) {
		a := invokeBrowser(t, e.fn, c.withHeader("Origin", "https://anywhere.example"))
		if got := a.header.Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{"*"}) {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want *", name, got)
		}
		if a.header.Get("Access-Control-Allow-Methods") != "*" || a.header.Get("XDomainRequestAllowed") != "1" {
			t.Errorf("%s: CORS headers %v", name, corsHeaders(a))
		}
	}
}

func TestCORSSettings(t *testing.T) {
	e, pw := newBrowserEnv(t, map[string]string{
		"MTAUTH_CORS_ALLOW_ORIGIN":   "https://app.example.com",
		"MTAUTH_CORS_ALLOW_METHODS":  "GET, POST, DELETE",
		"MTAUTH_CORS_ALLOW_HEADERS":  "X-MT-Authorization, Content-Type",
		"MTAUTH_CORS_EXPOSE_HEADERS": "X-MT-Next-Phase-URL, X-Request-Id",
	})
	a := invokeBrowser(t, e.fn, post("/v4/authentication", signInForm("melody", pw)).withHeader("Origin", "https://app.example.com"))
	want := http.Header{
		"Access-Control-Allow-Origin":   {"https://app.example.com"},
		"Access-Control-Allow-Methods":  {"GET, POST, DELETE"},
		"Access-Control-Allow-Headers":  {"X-MT-Authorization, Content-Type"},
		"Access-Control-Expose-Headers": {"X-MT-Next-Phase-URL, X-Request-Id"},
		"Xdomainrequestallowed":         {"1"},
		"Vary":                          {"Origin"},
	}
	if got := corsHeaders(a); !headersEqual(got, want) {
		t.Errorf("CORS headers %v, want %v", got, want)
	}
}

func TestPreflight(t *testing.T) {
	const origin = "https://app.example.com"
	e, _ := newBrowserEnv(t, map[string]string{"MTAUTH_CORS_ALLOW_ORIGIN": origin})
	for path, allow := range map[string]string{
		"/v4/authorization":      "GET, OPTIONS",
		"/v1/authorization.json": "GET, OPTIONS",
		"/v4/authentication":     "DELETE, POST, OPTIONS",
		"/v7/token":              "DELETE, POST, OPTIONS",
		"/v4/token.json":         "DELETE, POST, OPTIONS",
	} {
		// No credential check, even with a bad token or a bad sign-in.
		c := request(http.MethodOptions, path).withQuery("clientId", "0").
			withHeader("Origin", origin).
			withHeader("Access-Control-Request-Method", "POST").
			withHeader("Access-Control-Request-Headers", "x-mt-authorization").
			auth(bearer("bad-token"))
		a := invokeBrowser(t, e.fn, c)
		if a.status != http.StatusOK || a.body != "" || a.header.Get("Allow") != allow {
			t.Errorf("OPTIONS %s: got %d %q Allow %q, want 200, no body, Allow %q", path, a.status, a.body, a.header.Get("Allow"), allow)
		}
		if a.header.Get("Access-Control-Allow-Origin") != origin || a.header.Get("Access-Control-Allow-Headers") == "" ||
			a.header.Get("Access-Control-Allow-Methods") == "" || a.header.Get("Vary") != "Origin" {
			t.Errorf("OPTIONS %s: CORS headers %v", path, corsHeaders(a))
		}
		if age, err := strconv.Atoi(a.header.Get("Access-Control-Max-Age")); err != nil || age <= 0 {
			t.Errorf("OPTIONS %s: Access-Control-Max-Age %q, want a positive number of seconds", path, a.header.Get("Access-Control-Max-Age"))
		}

		// From another origin: still 200, without the CORS grant.
		other := invokeBrowser(t, e.fn, c.withHeader("Origin", "https://evil.example"))
		if other.status != http.StatusOK || other.header.Get("Access-Control-Allow-Origin") != "" || other.header.Get("Access-Control-Max-Age") != "" {
			t.Errorf("OPTIONS %s from another origin: %d %v", path, other.status, corsHeaders(other))
		}
	}
	// Only preflights get Max-Age.
	a := invokeBrowser(t, e.fn, request(http.MethodGet, "/v4/token").withHeader("Origin", origin))
	if a.header.Get("Access-Control-Max-Age") != "" {
		t.Errorf("GET got Access-Control-Max-Age %q", a.header.Get("Access-Control-Max-Age"))
	}
}

func headersEqual(got, want http.Header) bool {
	if len(got) != len(want) {
		return false
	}
	for name, values := range want {
		if !slices.Equal(got[name], values) {
			return false
		}
	}
	return true
}

// TestScreenAgainStaysText: a refused plain post shows the screen again
// with the username typed; invalid UTF-8 there must not turn the page into
// a binary (base64) answer, which API Gateway would pass on as base64.
func TestScreenAgainStaysText(t *testing.T) {
	e, _ := newBrowserEnv(t, nil)
	v := e.newVisitor()
	a := v.do(t, plainPost(4, typeInto(t, v.open(t, 4, "app", appPage), "mel\xffody", "wrong", false)))
	if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "Invalid login.") || !strings.Contains(a.body, "mel\uFFFDody") {
		t.Errorf("got %d, want 401 and the screen again with the username's bad byte replaced:\n%s", a.status, a.body)
	}
}
