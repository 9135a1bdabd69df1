package dataapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/apigw/apigwtest"
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/dataapi"
	"github.com/mtauth/mtauth/pkg/secret"
	"github.com/mtauth/mtauth/pkg/storage"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
	"github.com/mtauth/mtauth/pkg/storage/dynamo/dynamotest"
	"github.com/mtauth/mtauth/pkg/storage/embedded"
	"github.com/mtauth/mtauth/pkg/testkit"
)

// These tests drive the Lambda functions as Lambda does: an API Gateway
// REST proxy event (payload 1.0) as JSON, through aws-lambda-go's own
// decoding, into apigw.Handler and the Data API, over the in-memory
// DynamoDB. Every answer is also checked against the rules every response
// follows (see invoke).

// flaky makes the DynamoDB calls through its hook (wrap the database
// with dynamotest.Intercept) fail while down is set, as DynamoDB does in an
// outage, and can run a function just before the next transactional
// write, as a concurrent request would.
type flaky struct {
	down        atomic.Bool
	beforeWrite atomic.Pointer[func()]
}

// hook is a dynamotest.Hook.
func (f *flaky) hook(ctx context.Context, op string, call func(context.Context) error) error {
	if op == "TransactWriteItems" {
		if before := f.beforeWrite.Swap(nil); before != nil {
			(*before)()
		}
	}
	if f.down.Load() {
		return &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected outage"}
	}
	return call(ctx)
}

// env is one mtauth over a fresh in-memory table, with the function that
// serves every endpoint.
type env struct {
	app   *app.App
	clock *testkit.Clock
	// db is the table itself, for the tests' own looks at it; the app
	// reaches it through flaky.
	db    dynamo.API
	flaky *flaky
	fn    lambda.Handler
}

// noLockout turns off the brute-force lockout (section 8 of the
// contract): these tests make many refused sign-ins on purpose.
var noLockout = map[string]string{"MTAUTH_USER_LOCKOUT_LIMIT": "0", "MTAUTH_IP_LOCKOUT_LIMIT": "0"}

// newEnv builds mtauth from settings read as Lambda reads them, with vars
// (and noLockout) as the only environment variables set.
func newEnv(t *testing.T, vars map[string]string) *env {
	t.Helper()
	settings, err := config.FromEnv(func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return noLockout[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := embedded.New(t.Context(), settings.TableName)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{clock: testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)), db: embedded, flaky: &flaky{}}
	e.app = app.New(settings, dynamotest.Intercept(e.db, e.flaky.hook), e.clock.Now, slog.New(slog.DiscardHandler))
	e.fn = e.function(dataapi.Endpoints...)
	return e
}

// function returns the Lambda handler of a function serving these endpoints.
func (e *env) function(serves ...dataapi.Endpoint) lambda.Handler {
	return lambda.NewHandler(apigw.Handler(e.app.API.Handler(serves...)))
}

// addUser creates a user whose web services password is generated (fast
// to check) and returns that password.
func (e *env) addUser(t *testing.T, nu auth.NewUser) string {
	t.Helper()
	pw, err := e.app.Service.AddUser(t.Context(), nu)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// signInUser adds an active user allowed to sign in to the Data API, with
// a generated web services password (returned).
func (e *env) signInUser(t *testing.T, username string) string {
	t.Helper()
	return e.addUser(t, auth.NewUser{Username: username, Permissions: []string{auth.PermissionSignInDataAPI}})
}

func (e *env) setStatus(t *testing.T, username string, status storage.UserStatus) {
	t.Helper()
	if err := e.app.Service.SetStatus(t.Context(), username, status); err != nil {
		t.Fatal(err)
	}
}

// items counts the items in the table.
func (e *env) items(t *testing.T) int {
	t.Helper()
	out, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.app.Settings.TableName})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

// call is one HTTP request as API Gateway receives it.
type call struct {
	method, path string
	query        url.Values
	// header holds single-valued headers with their names exactly as the
	// client wrote them.
	header map[string]string
	body   string
	base64 bool
	// headerMaps selects which of the event's header maps carry header;
	// API Gateway fills both.
	headerMaps apigwtest.HeaderMaps
}

// post is a POST of an urlencoded form.
func post(path string, form url.Values) call {
	return call{method: http.MethodPost, path: path, body: form.Encode(),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
}

// postRaw is a POST of body as it is, of the given Content-Type.
func postRaw(path, contentType, body string) call {
	return call{method: http.MethodPost, path: path, body: body, header: map[string]string{"Content-Type": contentType}}
}

// postMultipart is a POST of a multipart/form-data form, as the Data API's
// JavaScript SDK sends.
func postMultipart(path string, form url.Values) call {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			_ = w.WriteField(k, v) // writes to a bytes.Buffer do not fail
		}
	}
	_ = w.Close()
	return postRaw(path, w.FormDataContentType(), buf.String())
}

// paddedForm is form urlencoded and padded with fields to exactly size
// bytes, each value at most 8000 bytes (a single huge value is refused on
// its own account).
func paddedForm(t *testing.T, form url.Values, size int) string {
	t.Helper()
	body := form.Encode()
	for i := 0; len(body) < size; i++ {
		field := fmt.Sprintf("&p%d=", i)
		body += field + strings.Repeat("x", max(0, min(8000, size-len(body)-len(field))))
	}
	if len(body) != size {
		t.Fatalf("padded form is %d bytes, want %d", len(body), size)
	}
	return body
}

func (c call) withBody(body string) call {
	c.body = body
	return c
}

func request(method, path string) call { return call{method: method, path: path} }

// inBase64 returns c with its body base64-encoded, as API Gateway hands
// over bodies it does not take for text.
func (c call) inBase64() call {
	c.body, c.base64 = base64.StdEncoding.EncodeToString([]byte(c.body)), true
	return c
}

// withHeader returns c with one more header.
func (c call) withHeader(name, value string) call {
	h := map[string]string{name: value}
	for k, v := range c.header {
		if !strings.EqualFold(k, name) {
			h[k] = v
		}
	}
	c.header = h
	return c
}

// auth returns c with an X-MT-Authorization header.
func (c call) auth(value string) call { return c.withHeader("X-MT-Authorization", value) }

func (c call) withQuery(key, value string) call {
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	q.Set(key, value)
	c.query = q
	return c
}

// event is the JSON API Gateway sends a REST proxy integration for c.
func (c call) event() []byte {
	return apigwtest.Request{
		Method: c.method, Path: c.path, Header: c.header, Query: c.query, Body: c.body, Base64: c.base64,
		HeaderMaps: c.headerMaps, SourceIP: "203.0.113.7", UserAgent: "test", RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
	}.Event()
}

// answer is a function's response as API Gateway turns it into HTTP.
type answer struct {
	status int
	header http.Header
	body   string
}

var hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// maxBody is the largest request body accepted: 64 KiB.
const maxBody = 64 << 10

// invoke runs c through fn and checks what every answer must have: the
// three security headers, and for a body, the JSON content type and
// sorted keys.
func invoke(t *testing.T, fn lambda.Handler, c call) answer {
	t.Helper()
	resp := invokeSecure(t, fn, c)
	if resp.Base64 {
		t.Errorf("%s %s: body is base64-encoded; JSON answers are text", c.method, c.path)
	}
	a := answer{status: resp.Status, header: resp.Header, body: resp.Body}
	if a.body != "" {
		if got := a.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s %s: Content-Type = %q, want application/json", c.method, c.path, got)
		}
		if !keysSorted(a.body) {
			t.Errorf("%s %s: keys of %s are not sorted", c.method, c.path, a.body)
		}
	}
	return a
}

// invokeSecure runs c through fn and checks the security headers every
// answer carries, whatever its body (see invoke and invokeBrowser).
func invokeSecure(t *testing.T, fn lambda.Handler, c call) apigwtest.Response {
	t.Helper()
	resp, err := apigwtest.Invoke(t.Context(), fn, c.event())
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	for name, want := range map[string]string{
		"Cache-Control": "no-cache", "X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, name, got, want)
		}
	}
	return resp
}

func (e *env) invoke(t *testing.T, c call) answer {
	t.Helper()
	return invoke(t, e.fn, c)
}

// keysSorted reports whether body is JSON whose objects, at every depth,
// list their keys in sorted order as written.
func keysSorted(body string) bool {
	dec := json.NewDecoder(strings.NewReader(body))
	var value func() bool
	value = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			last := ""
			for dec.More() {
				key, err := dec.Token()
				k, ok := key.(string)
				if err != nil || !ok || k < last || !value() {
					return false
				}
				last = k
			}
		case json.Delim('['):
			for dec.More() {
				if !value() {
					return false
				}
			}
		default:
			return true
		}
		_, err = dec.Token() // the closing delimiter
		return err == nil
	}
	return value() && !dec.More()
}

// topKeys returns the keys of the JSON object body in the order written.
func topKeys(t *testing.T, body string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("body %s is not an object", body)
	}
	var keys []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		keys = append(keys, key.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
	}
	return keys
}

func errorBody(code int, message string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q}}`, code, message)
}

// wantError checks a is the Data API error with this code and message,
// sent with the code as HTTP status.
func wantError(t *testing.T, a answer, code int, message string) {
	t.Helper()
	if a.status != code || a.body != errorBody(code, message) {
		t.Errorf("got %d %s, want %d %s", a.status, a.body, code, errorBody(code, message))
	}
}

// wantOK checks a is a 200 JSON answer and returns its decoded body.
func wantOK(t *testing.T, a answer) map[string]any {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", a.status, a.body)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(a.body), &body); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	if _, isError := body["error"]; isError {
		t.Fatalf("got error %s, want success", a.body)
	}
	return body
}

func wantSuccess(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusOK || a.body != `{"status":"success"}` {
		t.Errorf("got %d %s, want 200 {\"status\":\"success\"}", a.status, a.body)
	}
}

// session is what a sign-in hands out.
type session struct{ id, token string }

func signInForm(username, pw string) url.Values {
	return url.Values{"clientId": {"test"}, "username": {username}, "password": {pw}}
}

// signIn signs in on v4 and returns the new session.
func (e *env) signIn(t *testing.T, username, pw string) session {
	t.Helper()
	return e.signInWith(t, signInForm(username, pw))
}

func (e *env) signInWith(t *testing.T, form url.Values) session {
	t.Helper()
	body := wantOK(t, e.invoke(t, post("/v4/authentication", form)))
	s := session{id: fmt.Sprint(body["sessionId"]), token: fmt.Sprint(body["accessToken"])}
	if !hex40.MatchString(s.id) || !hex40.MatchString(s.token) {
		t.Fatalf("sign-in answered %v", body)
	}
	return s
}

// mint asks POST /v4/token for a token with these credentials.
func (e *env) mint(t *testing.T, authorization string) answer {
	t.Helper()
	return e.invoke(t, post("/v4/token", nil).auth(authorization))
}

// mintOK mints a token and returns it.
func (e *env) mintOK(t *testing.T, authorization string) string {
	t.Helper()
	token := fmt.Sprint(wantOK(t, e.mint(t, authorization))["accessToken"])
	if !hex40.MatchString(token) {
		t.Fatalf("POST /token answered token %q", token)
	}
	return token
}

func sid(s session) string       { return "MTAuth sessionId=" + s.id }
func bearer(token string) string { return "MTAuth accessToken=" + token }

// probe is the user whose sign-ins test whether an access token passes the
// global check.
const probe = "probe"

// tokenWorks reports whether token passes the global check, by signing
// the probe user in with it in the header (which changes nothing of the
// token's session). Any answer but 200 or 401 Unauthorized fails the test.
func (e *env) tokenWorks(t *testing.T, probePW, token string) bool {
	t.Helper()
	a := e.invoke(t, post("/v4/authentication", signInForm(probe, probePW)).auth(bearer(token)))
	if a.status == http.StatusOK {
		return true
	}
	wantError(t, a, http.StatusUnauthorized, "Unauthorized")
	return false
}

func (e *env) wantTokens(t *testing.T, probePW string, want bool, tokens ...string) {
	t.Helper()
	for i, token := range tokens {
		if got := e.tokenWorks(t, probePW, token); got != want {
			t.Errorf("token %d works = %v, want %v", i, got, want)
		}
	}
}

func TestVersions(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.app.Service.EnsureSignInUser(t.Context(), "melody", "sign-in secret", "web services secret"); err != nil {
		t.Fatal(err)
	}
	s := e.signIn(t, "melody", "web services secret")

	for _, path := range []string{"/authentication", "/token", "/", "/token.json"} {
		t.Run("missing "+path, func(t *testing.T) {
			wantError(t, e.invoke(t, post(path, signInForm("melody", "web services secret"))), 400, "API Version is required")
		})
	}
	for _, path := range []string{"/v0/token", "/v8/token", "/v07/token", "/v4x/token", "/v/token", "/v10/authentication"} {
		t.Run("invalid "+path, func(t *testing.T) {
			wantError(t, e.invoke(t, post(path, nil).auth(sid(s))), 400, "API Version is invalid")
		})
	}

	// v1 and v2 check the sign-in password, v3 and later the web
	// services password; each refuses the other.
	for n := dataapi.MinVersion; n <= dataapi.MaxVersion; n++ {
		right, wrong := "web services secret", "sign-in secret"
		if n <= 2 {
			right, wrong = wrong, right
		}
		t.Run(fmt.Sprintf("v%d", n), func(t *testing.T) {
			path := fmt.Sprintf("/v%d/authentication", n)
			wantOK(t, e.invoke(t, post(path, signInForm("melody", right))))
			wantError(t, e.invoke(t, post(path, signInForm("melody", wrong))), 401, "Invalid login")
			wantOK(t, e.invoke(t, post(fmt.Sprintf("/v%d/token", n), nil).auth(sid(s))))
		})
	}

	t.Run(".json", func(t *testing.T) {
		wantOK(t, e.invoke(t, post("/v4/authentication.json", signInForm("melody", "web services secret"))))
		token := fmt.Sprint(wantOK(t, e.invoke(t, post("/v4/token.json", nil).auth(sid(s))))["accessToken"])
		wantSuccess(t, e.invoke(t, request(http.MethodDelete, "/v4/token.json").auth(bearer(token))))
	})
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	s := e.signIn(t, "melody", pw)

	t.Run("unknown endpoint", func(t *testing.T) {
		for _, c := range []call{
			post("/v4/tokens", nil), post("/v4/token/x", nil), post("/v4/", nil), post("/v4", nil),
			request(http.MethodGet, "/v4/entries"), request(http.MethodDelete, "/v4/sessions"),
			// A known path with a verb it does not have is 404, never 405.
			request(http.MethodGet, "/v4/authentication"), request(http.MethodPut, "/v4/token"),
			request(http.MethodGet, "/v4/token"), request(http.MethodPatch, "/v4/authentication"),
			request(http.MethodPut, "/v4/authentication.json"), request(http.MethodHead, "/v4/token"),
			request(http.MethodGet, "/v4/token").auth(sid(s)),
		} {
			wantError(t, e.invoke(t, c), 404, "Unknown endpoint")
		}
	})

	t.Run("OPTIONS", func(t *testing.T) {
		for _, path := range []string{"/v4/token", "/v4/authentication", "/v1/token.json", "/v7/authentication"} {
			// No credential check: a bad access token does not fail a preflight.
			// Nor does a __method that is not OPTIONS, or a header over the limits.
			for _, c := range []call{
				request(http.MethodOptions, path), request(http.MethodOptions, path).auth("MTAuth accessToken=bogus"),
				request(http.MethodOptions, path).withQuery("__method", "DELETE"),
				request(http.MethodOptions, path).auth("MTAuth accessToken=" + strings.Repeat("x", 5000)),
			} {
				a := e.invoke(t, c)
				if a.status != 200 || a.body != "" || a.header.Get("Allow") != "DELETE, POST, OPTIONS" {
					t.Errorf("OPTIONS %s: got %d %q Allow %q, want 200, empty body, Allow \"DELETE, POST, OPTIONS\"",
						path, a.status, a.body, a.header.Get("Allow"))
				}
			}
		}
		wantError(t, e.invoke(t, request(http.MethodOptions, "/v4/entries")), 404, "Unknown endpoint")
	})
}

func TestParameters(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	s := e.signIn(t, "melody", pw)
	good := signInForm("melody", pw)

	t.Run("body forms", func(t *testing.T) {
		for name, c := range map[string]call{
			"urlencoded":        post("/v4/authentication", good),
			"multipart":         postMultipart("/v4/authentication", good),
			"base64 urlencoded": post("/v4/authentication", good).inBase64(),
			"base64 multipart":  postMultipart("/v4/authentication", good).inBase64(),
			"odd-cased Content-type": post("/v4/authentication", good).
				withHeader("Content-type", "application/x-www-form-urlencoded"),
			"lower-case content-type": post("/v4/authentication", good).
				withHeader("content-type", "application/x-www-form-urlencoded; charset=UTF-8"),
		} {
			t.Run(name, func(t *testing.T) { wantOK(t, e.invoke(t, c)) })
		}
	})

	t.Run("JSON body is not parsed", func(t *testing.T) {
		body, _ := json.Marshal(map[string]string{"clientId": "test", "username": "melody", "password": pw})
		wantError(t, e.invoke(t, postRaw("/v4/authentication", "application/json", string(body))), 400, "Bad Request")
	})

	t.Run("query merged, body wins", func(t *testing.T) {
		c := post("/v4/authentication", url.Values{"username": {"melody"}, "password": {pw}}).withQuery("clientId", "test")
		wantOK(t, e.invoke(t, c))
		wantOK(t, e.invoke(t, post("/v4/authentication", good).withQuery("password", "wrong")))
		bad := signInForm("melody", "wrong")
		wantError(t, e.invoke(t, post("/v4/authentication", bad).withQuery("password", pw)), 401, "Invalid login")
		wantOK(t, e.invoke(t, postMultipart("/v4/authentication", good).withQuery("password", "wrong")))
	})

	t.Run("GET and DELETE read only the query", func(t *testing.T) {
		suppress := url.Values{"suppressResponseCodes": {"1"}}
		formRequest := func(method string, form url.Values) call {
			c := post("/v4/token", form)
			c.method = method
			return c
		}
		// In the body, suppressResponseCodes and __method are ignored.
		wantError(t, e.invoke(t, formRequest(http.MethodDelete, suppress)), 401, "Unauthorized")
		multi := postMultipart("/v4/token", suppress)
		multi.method = http.MethodDelete
		wantError(t, e.invoke(t, multi), 401, "Unauthorized")
		wantError(t, e.invoke(t, formRequest(http.MethodGet, url.Values{"__method": {"DELETE"}})), 404, "Unknown endpoint")
		// So is the X-MT-Authorization field, in the body or the query.
		form := url.Values{"X-MT-Authorization": {sid(s)}}
		wantError(t, e.invoke(t, formRequest(http.MethodDelete, form)), 401, "Unauthorized")
		wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").withQuery("X-MT-Authorization", sid(s))), 401, "Unauthorized")
		// In the query they count.
		a := e.invoke(t, formRequest(http.MethodDelete, nil).withQuery("suppressResponseCodes", "1"))
		if a.status != 200 || a.body != errorBody(401, "Unauthorized") {
			t.Errorf("DELETE with suppressResponseCodes in the query: got %d %s", a.status, a.body)
		}
		e.mintOK(t, sid(s)) // the session survived
	})

	t.Run("header names in any case", func(t *testing.T) {
		for _, name := range []string{"X-MT-Authorization", "X-Mt-Authorization", "x-mt-authorization", "X-MT-AUTHORIZATION"} {
			for _, form := range []apigwtest.HeaderMaps{apigwtest.BothHeaderMaps, apigwtest.HeadersOnly, apigwtest.MultiValueHeadersOnly} {
				c := post("/v4/token", nil).withHeader(name, sid(s))
				c.headerMaps = form
				if a := e.invoke(t, c); a.status != 200 {
					t.Errorf("%s in header form %d: got %d %s", name, form, a.status, a.body)
				}
			}
		}
	})

	t.Run("X-MT-Authorization as a field", func(t *testing.T) {
		// Read on a POST when the header is absent, from the body or the query.
		field := url.Values{"X-MT-Authorization": {sid(s)}}
		wantOK(t, e.invoke(t, post("/v4/token", field)))
		wantOK(t, e.invoke(t, postMultipart("/v4/token", field)))
		wantOK(t, e.invoke(t, post("/v4/token", nil).withQuery("X-MT-Authorization", sid(s))))
		// The header, when present, is what counts.
		wantError(t, e.invoke(t, post("/v4/token", field).auth("MTAuth sessionId=unknown")), 401, "Unauthorized")
		// The global check applies to the field too.
		form := signInForm("melody", pw)
		form.Set("X-MT-Authorization", "MTAuth accessToken=unknown")
		wantError(t, e.invoke(t, post("/v4/authentication", form)), 401, "Unauthorized")
	})
}

func TestMethodOverride(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)

	t.Run("POST with __method=DELETE", func(t *testing.T) {
		for _, value := range []string{"DELETE", "delete", "Delete"} {
			// On /authentication it signs out.
			s := e.signIn(t, "melody", pw)
			wantSuccess(t, e.invoke(t, post("/v4/authentication", url.Values{"__method": {value}}).auth(sid(s))))
			wantError(t, e.mint(t, sid(s)), 401, "Unauthorized")
			// On /token it revokes the token presented, in the body or the query.
			s = e.signIn(t, "melody", pw)
			wantSuccess(t, e.invoke(t, post("/v4/token", url.Values{"__method": {value}}).auth(bearer(s.token))))
			other := e.mintOK(t, sid(s))
			wantSuccess(t, e.invoke(t, post("/v4/token", nil).withQuery("__method", value).auth(bearer(other))))
			e.wantTokens(t, probePW, false, s.token, other)
			e.mintOK(t, sid(s))
		}
	})

	t.Run("non-POST with another __method", func(t *testing.T) {
		for _, c := range []struct {
			method, override string
		}{
			{http.MethodGet, "DELETE"},
			{http.MethodDelete, "post"},
			{http.MethodDelete, "POST"},
			{http.MethodPut, "Get"},
			{http.MethodGet, "x"},
		} {
			a := e.invoke(t, request(c.method, "/v4/token").withQuery("__method", c.override))
			wantError(t, a, 405, fmt.Sprintf("Request method is not '%s' or 'POST' with '__method=%s'", c.override, c.override))
		}
		// The same verb, in any case, is no override.
		wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/token").withQuery("__method", "delete")), 401, "Unauthorized")
	})
}

func TestSuppressResponseCodes(t *testing.T) {
	e := newEnv(t, nil)
	errorCalls := []struct {
		c       call
		code    int
		message string
		inQuery bool // even on a POST, because the body cannot be read
	}{
		{post("/v4/token", nil), 401, "Unauthorized", false},
		{post("/v4/authentication", url.Values{"username": {"x"}}), 400, "Bad Request", false},
		{post("/v4/authentication", signInForm("nobody", "pw")), 401, "Invalid login", false},
		{post("/v4/entries", nil), 404, "Unknown endpoint", false},
		{post("/token", nil), 400, "API Version is required", false},
		{post("/v9/token", nil), 400, "API Version is invalid", false},
		{request(http.MethodGet, "/v4/token").withQuery("__method", "DELETE"), 405,
			"Request method is not 'DELETE' or 'POST' with '__method=DELETE'", false},
		{request(http.MethodDelete, "/v4/token"), 401, "Unauthorized", false},
		{post("/v4/token", url.Values{"pad": {strings.Repeat("x", maxBody)}}), 413, "Request Entity Too Large", true},
	}
	for _, tt := range []struct {
		value    string
		suppress bool
	}{
		{"1", true}, {"true", true}, {"false", true}, {"yes", true}, {"", false}, {"0", false},
	} {
		t.Run(fmt.Sprintf("%q", tt.value), func(t *testing.T) {
			for _, ec := range errorCalls {
				c := ec.c
				if ec.inQuery || c.method != http.MethodPost {
					c = c.withQuery("suppressResponseCodes", tt.value)
				} else {
					form, _ := url.ParseQuery(c.body)
					form.Set("suppressResponseCodes", tt.value)
					c.body = form.Encode()
				}
				want := ec.code
				if tt.suppress {
					want = http.StatusOK
				}
				if a := e.invoke(t, c); a.status != want || a.body != errorBody(ec.code, ec.message) {
					t.Errorf("%s %s: got %d %s, want %d %s", c.method, c.path, a.status, a.body, want, errorBody(ec.code, ec.message))
				}
			}
		})
	}
	t.Run("absent", func(t *testing.T) {
		for _, ec := range errorCalls {
			wantError(t, e.invoke(t, ec.c), ec.code, ec.message)
		}
	})
}

func TestClientIDAndRemember(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")

	t.Run("clientId", func(t *testing.T) {
		for _, tt := range []struct {
			clientID string // "-" for none
			ok       bool
		}{
			{"-", false}, {"", false}, {"0", false}, {"a b", false}, {"ab!", false}, {"x/y", false},
			{"caf\u00e9", false}, {"a.b", false}, {"id\n", false},
			{"a", true}, {"00", true}, {"Az09_-", true},
		} {
			form := signInForm("melody", pw)
			form.Set("clientId", tt.clientID)
			if tt.clientID == "-" {
				form.Del("clientId")
			}
			if !tt.ok {
				// clientId is checked before the credentials.
				wantError(t, e.invoke(t, post("/v4/authentication", form)), 400, "Bad Request")
				form.Set("password", "wrong")
				wantError(t, e.invoke(t, post("/v4/authentication", form)), 400, "Bad Request")
				continue
			}
			wantOK(t, e.invoke(t, post("/v4/authentication", form)))
		}
	})

	t.Run("remember", func(t *testing.T) {
		for _, tt := range []struct {
			value string // "-" for none
			want  bool
		}{
			{"-", false}, {"", false}, {"0", false}, {"false", false}, {"FALSE", false}, {"False", false},
			{"1", true}, {"true", true}, {"yes", true}, {"on", true}, {"2", true},
		} {
			form := signInForm("melody", pw)
			if tt.value != "-" {
				form.Set("remember", tt.value)
			}
			a := e.invoke(t, post("/v4/authentication", form))
			if got := wantOK(t, a)["remember"]; got != tt.want {
				t.Errorf("remember=%q: answered %#v, want JSON %v", tt.value, got, tt.want)
			}
		}
	})
}

func TestAuthorizationHeader(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	s := e.signIn(t, "melody", pw)

	for _, tt := range []struct {
		header string
		ok     bool
	}{
		{"MTAuth sessionId=" + s.id, true},
		{"MTAuth   sessionId=" + s.id + " ,, ", true},
		{"MTAuth\tsessionId=" + s.id, true},
		{"MTAuth foo=bar,sessionId=" + s.id, true},
		{"MTAuth foo=bar sessionId=" + s.id + ",baz=1", true},
		{`MTAuth sessionId="` + s.id + `"`, true},
		{`MTAuth sessionId='` + s.id + `'`, true},
		{`MTAuth foo="a, b c", sessionId="` + s.id + `"`, true},
		{`MTAuth sessionId="` + s.id + `", accessToken='` + s.token + `'`, true},
		{"MTAuth sessionId=wrong, sessionId=" + s.id, true},
		{"MTAuth sessionId=" + s.id + ", sessionId=wrong", false},
		{"MTAuth sessionId=" + s.id + "x", false},
		{"MTAuth sessionId=" + strings.ToUpper(s.id), false},
		{`MTAuth sessionId="` + s.id + ` x"`, false},
		// A bad access token beats a good session id.
		{"MTAuth sessionId=" + s.id + ", accessToken=bogus", false},
		{"MTAuth sessionId=" + s.id + ", accessToken=", false},
		// Not the MTAuth scheme, or no pairs: no credentials.
		{"Bearer sessionId=" + s.id, false},
		{"mtauth sessionId=" + s.id, false},
		{"MTAUTH sessionId=" + s.id, false},
		{"MTAuthsessionId=" + s.id, false},
		{"MTAuth", false},
		{"MTAuth ", false},
		{"sessionId=" + s.id, false},
		{s.id, false},
	} {
		a := e.mint(t, tt.header)
		if tt.ok {
			if a.status != 200 {
				t.Errorf("%q: got %d %s, want 200", tt.header, a.status, a.body)
			}
			continue
		}
		if a.status != 401 || a.body != errorBody(401, "Unauthorized") {
			t.Errorf("%q: got %d %s, want 401 Unauthorized", tt.header, a.status, a.body)
		}
	}
}

func TestGlobalCheck(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	otherPW := e.signInUser(t, "other")
	good := signInForm("melody", pw)

	revoked := e.signIn(t, "melody", pw)
	wantSuccess(t, e.invoke(t, request(http.MethodDelete, "/v4/token").auth(bearer(revoked.token))))
	signedOut := e.signIn(t, "melody", pw)
	wantSuccess(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(sid(signedOut))))
	ofDisabled := e.signIn(t, "other", otherPW)
	e.setStatus(t, "other", storage.UserDisabled)
	expired := e.signIn(t, "melody", pw)
	e.clock.Advance(time.Hour)
	live := e.signIn(t, "melody", pw)

	for name, header := range map[string]string{
		"unknown":           "MTAuth accessToken=" + strings.Repeat("ab", 20),
		"empty":             "MTAuth accessToken=",
		"empty quoted":      `MTAuth accessToken=""`,
		"session id":        "MTAuth accessToken=" + live.id,
		"revoked":           bearer(revoked.token),
		"signed out":        bearer(signedOut.token),
		"user disabled":     bearer(ofDisabled.token),
		"expired":           bearer(expired.token),
		"with a session id": "MTAuth sessionId=" + live.id + ", accessToken=bogus",
	} {
		t.Run(name, func(t *testing.T) {
			before := e.items(t)
			wantError(t, e.invoke(t, post("/v4/authentication", good).auth(header)), 401, "Unauthorized")
			// Even with a bad clientId, the global check answers first.
			wantError(t, e.invoke(t, post("/v4/authentication", url.Values{"clientId": {"0"}}).auth(header)), 401, "Unauthorized")
			// And every other endpoint, with a session id that would do.
			withSession := header + ", sessionId=" + live.id
			wantError(t, e.mint(t, withSession), 401, "Unauthorized")
			wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(withSession)), 401, "Unauthorized")
			wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/token").auth(withSession)), 401, "Unauthorized")
			if after := e.items(t); after != before {
				t.Errorf("table went from %d to %d items", before, after)
			}
		})
	}

	t.Run("valid token", func(t *testing.T) {
		wantOK(t, e.invoke(t, post("/v4/authentication", good).auth(bearer(live.token))))
		e.mintOK(t, sid(live))
	})
}

func TestSignInRefused(t *testing.T) {
	e := newEnv(t, nil)
	allowed := []string{auth.PermissionSignInDataAPI}
	pws := map[string]string{
		"melody":   e.addUser(t, auth.NewUser{Username: "melody", Permissions: allowed}),
		"disabled": e.addUser(t, auth.NewUser{Username: "disabled", Permissions: allowed, Status: storage.UserDisabled}),
		"pending":  e.addUser(t, auth.NewUser{Username: "pending", Permissions: allowed, Status: storage.UserPending}),
		"noperm":   e.addUser(t, auth.NewUser{Username: "noperm", Permissions: []string{"create_post"}}),
		"root":     e.addUser(t, auth.NewUser{Username: "root", Superuser: true}),
	}

	for name, form := range map[string]url.Values{
		"unknown user":        signInForm("nobody", pws["melody"]),
		"no username":         {"clientId": {"test"}, "password": {pws["melody"]}},
		"wrong password":      signInForm("melody", pws["melody"]+"x"),
		"empty password":      signInForm("melody", ""),
		"no password":         {"clientId": {"test"}, "username": {"melody"}},
		"other's password":    signInForm("melody", pws["root"]),
		"username case":       signInForm("Melody", pws["melody"]),
		"username upper":      signInForm("MELODY", pws["melody"]),
		"username padded":     signInForm(" melody", pws["melody"]),
		"disabled user":       signInForm("disabled", pws["disabled"]),
		"pending user":        signInForm("pending", pws["pending"]),
		"without permission":  signInForm("noperm", pws["noperm"]),
		"v2 without password": {"clientId": {"test"}, "username": {"melody"}, "password": {pws["melody"]}},
	} {
		t.Run(name, func(t *testing.T) {
			path := "/v4/authentication"
			if name == "v2 without password" {
				// melody has no sign-in password, which v2 checks.
				path = "/v2/authentication"
			}
			before := e.items(t)
			wantError(t, e.invoke(t, post(path, form)), 401, "Invalid login")
			if after := e.items(t); after != before {
				t.Errorf("a refused sign-in left %d items behind", after-before)
			}
		})
	}

	t.Run("superuser without the permission", func(t *testing.T) {
		before := e.items(t)
		e.signIn(t, "root", pws["root"])
		if e.items(t) <= before {
			t.Error("a sign-in left no session in the table; items cannot tell a refusal")
		}
	})
}

func TestResponseShapes(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")

	a := e.invoke(t, post("/v4/authentication", signInForm("melody", pw)))
	if got, want := topKeys(t, a.body), []string{"accessToken", "expiresIn", "remember", "sessionId"}; !slices.Equal(got, want) {
		t.Errorf("sign-in keys %v, want %v", got, want)
	}
	body := wantOK(t, a)
	if !hex40.MatchString(fmt.Sprint(body["accessToken"])) || !hex40.MatchString(fmt.Sprint(body["sessionId"])) ||
		body["expiresIn"] != 3600.0 || body["remember"] != false || body["accessToken"] == body["sessionId"] {
		t.Errorf("sign-in answered %s", a.body)
	}
	if !strings.Contains(a.body, `"expiresIn":3600,`) || !strings.Contains(a.body, `"remember":false,`) {
		t.Errorf("sign-in answered %s; want expiresIn a JSON number and remember a JSON boolean", a.body)
	}
	s := session{id: fmt.Sprint(body["sessionId"]), token: fmt.Sprint(body["accessToken"])}

	for _, c := range []call{post("/v4/token", nil).auth(sid(s)), post("/v4/token", nil).auth(bearer(s.token))} {
		a := e.invoke(t, c)
		if got, want := topKeys(t, a.body), []string{"accessToken", "expiresIn"}; !slices.Equal(got, want) {
			t.Errorf("POST /token keys %v, want %v", got, want)
		}
		body := wantOK(t, a)
		if token := fmt.Sprint(body["accessToken"]); !hex40.MatchString(token) || token == s.token || body["expiresIn"] != 3600.0 {
			t.Errorf("POST /token answered %s", a.body)
		}
	}

	wantSuccess(t, e.invoke(t, request(http.MethodDelete, "/v4/token").auth(bearer(s.token))))
	wantSuccess(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(sid(s))))

	// Every secret handed out is new.
	seen := map[string]bool{}
	for range 5 {
		s := e.signIn(t, "melody", pw)
		for _, v := range []string{s.id, s.token, e.mintOK(t, sid(s))} {
			if seen[v] {
				t.Errorf("%s handed out twice", v)
			}
			seen[v] = true
		}
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)
	deleteToken := func(authorization string) answer {
		return e.invoke(t, request(http.MethodDelete, "/v4/token").auth(authorization))
	}
	signOut := func(authorization string) answer {
		return e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(authorization))
	}

	s := e.signIn(t, "melody", pw)
	other := e.signIn(t, "melody", pw) // another session of the same user
	bySession := e.mintOK(t, sid(s))
	byToken := e.mintOK(t, bearer(s.token))
	byNewer := e.mintOK(t, bearer(byToken))
	// Minting never revokes older tokens.
	e.wantTokens(t, probePW, true, s.token, bySession, byToken, byNewer, other.token)

	t.Run("revoke one token", func(t *testing.T) {
		wantError(t, deleteToken(sid(s)), 401, "Unauthorized")
		wantError(t, deleteToken(""), 401, "Unauthorized")
		e.wantTokens(t, probePW, true, s.token, bySession)

		wantSuccess(t, deleteToken(bearer(bySession)))
		e.wantTokens(t, probePW, false, bySession)
		wantError(t, deleteToken(bearer(bySession)), 401, "Unauthorized")
		wantError(t, e.mint(t, bearer(bySession)), 401, "Unauthorized")
		// The session and its other tokens live on.
		e.wantTokens(t, probePW, true, s.token, byToken, byNewer, other.token)
		e.mintOK(t, sid(s))
		e.mintOK(t, bearer(s.token))
	})

	t.Run("sign out with the session id", func(t *testing.T) {
		tokens := []string{s.token, byToken, byNewer, e.mintOK(t, sid(s))}
		wantSuccess(t, signOut(sid(s)))
		e.wantTokens(t, probePW, false, tokens...)
		wantError(t, e.mint(t, sid(s)), 401, "Unauthorized")
		wantError(t, signOut(sid(s)), 401, "Unauthorized")
		for _, token := range tokens {
			wantError(t, e.mint(t, bearer(token)), 401, "Unauthorized")
			wantError(t, deleteToken(bearer(token)), 401, "Unauthorized")
			wantError(t, signOut(bearer(token)), 401, "Unauthorized")
		}
		// Another session of the user is untouched.
		e.wantTokens(t, probePW, true, other.token)
	})

	t.Run("sign out with an access token", func(t *testing.T) {
		tokens := []string{other.token, e.mintOK(t, sid(other)), e.mintOK(t, bearer(other.token))}
		third := e.signIn(t, "melody", pw)
		wantSuccess(t, signOut(bearer(tokens[1])))
		e.wantTokens(t, probePW, false, tokens...)
		wantError(t, e.mint(t, sid(other)), 401, "Unauthorized")
		wantError(t, signOut(sid(other)), 401, "Unauthorized")
		e.wantTokens(t, probePW, true, third.token)
	})

	t.Run("an access token's session beats a session id", func(t *testing.T) {
		a, b := e.signIn(t, "melody", pw), e.signIn(t, "melody", pw)
		both := sid(a) + ", accessToken=" + b.token
		minted := e.mintOK(t, both) // a token of b's session
		wantSuccess(t, signOut(both))
		e.wantTokens(t, probePW, false, b.token, minted)
		e.wantTokens(t, probePW, true, a.token)
		e.mintOK(t, sid(a))
	})

	t.Run("sign out without credentials", func(t *testing.T) {
		wantError(t, signOut(""), 401, "Unauthorized")
		wantError(t, signOut("MTAuth sessionId=unknown"), 401, "Unauthorized")
		wantError(t, e.mint(t, ""), 401, "Unauthorized")
	})
}

func TestAccessTokenExpiry(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)
	s := e.signIn(t, "melody", pw)
	e.clock.Advance(10 * time.Minute)
	minted := e.mintOK(t, sid(s))

	e.clock.Advance(3600*time.Second - 10*time.Minute - time.Second)
	e.wantTokens(t, probePW, true, s.token, minted)
	e.clock.Advance(time.Second) // exactly 3600 s after sign-in
	e.wantTokens(t, probePW, false, s.token)
	e.wantTokens(t, probePW, true, minted)
	// Expired, though its row is still there.
	if _, err := e.app.Store.GetAccessToken(t.Context(), secret.Hash(s.token), e.clock.Now().Add(-time.Second)); err != nil {
		t.Fatalf("token row is gone: %v", err)
	}
	wantError(t, e.mint(t, bearer(s.token)), 401, "Unauthorized")
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/token").auth(bearer(s.token))), 401, "Unauthorized")
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(bearer(s.token))), 401, "Unauthorized")
	// Not sliding: using a token does not extend it.
	e.clock.Advance(10*time.Minute - time.Second)
	e.mintOK(t, bearer(minted))
	e.clock.Advance(time.Second)
	e.wantTokens(t, probePW, false, minted)
	// The session outlives its tokens.
	e.mintOK(t, sid(s))
}

func TestSessionExpiry(t *testing.T) {
	const timeout = 1800 * time.Second // shorter than a token's life
	e := newEnv(t, map[string]string{"MTAUTH_USER_SESSION_TIMEOUT": "1800"})
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)
	s := e.signIn(t, "melody", pw)
	created := e.clock.Now()

	// Each token minted counts as use: by session id, then by access
	// token (only that second use keeps the session alive to the end).
	e.clock.Advance(timeout - time.Second)
	e.mintOK(t, sid(s))
	e.clock.Advance(timeout - time.Second)
	last := e.mintOK(t, bearer(s.token))
	// Checking a token is no use of the session.
	e.clock.Advance(timeout - time.Second)
	e.wantTokens(t, probePW, true, last)
	e.clock.Advance(time.Second)

	// The session expired exactly timeout after its last use; the row
	// is still there, and its token has time left, but neither works.
	if _, err := e.app.Store.GetSession(t.Context(), secret.Hash(s.id), created); err != nil {
		t.Fatalf("session row is gone: %v", err)
	}
	wantError(t, e.mint(t, sid(s)), 401, "Unauthorized")
	wantError(t, e.mint(t, bearer(last)), 401, "Unauthorized")
	e.wantTokens(t, probePW, false, last)
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/token").auth(bearer(last))), 401, "Unauthorized")
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(sid(s))), 401, "Unauthorized")
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(bearer(last))), 401, "Unauthorized")
}

func TestDefaultSessionTimeout(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	s := e.signIn(t, "melody", pw)
	e.clock.Advance(14400*time.Second - time.Second)
	e.mintOK(t, sid(s))
	e.clock.Advance(14400 * time.Second)
	wantError(t, e.mint(t, sid(s)), 401, "Unauthorized")
}

func TestRememberedSession(t *testing.T) {
	const year = 365 * 24 * time.Hour
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	form := signInForm("melody", pw)
	form.Set("remember", "1")
	remembered := e.signInWith(t, form)
	plain := e.signIn(t, "melody", pw)

	e.clock.Advance(14400 * time.Second)
	wantError(t, e.mint(t, sid(plain)), 401, "Unauthorized")
	e.clock.Advance(year - 14400*time.Second - time.Second)
	token := e.mintOK(t, sid(remembered))
	// Minting by access token extends a remembered session by a year too.
	e.clock.Advance(time.Minute)
	e.mintOK(t, bearer(token))
	e.clock.Advance(year - time.Second)
	e.mintOK(t, sid(remembered))
	e.clock.Advance(year)
	wantError(t, e.mint(t, sid(remembered)), 401, "Unauthorized")
}

func TestDisabledUser(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)
	s := e.signIn(t, "melody", pw)
	second := e.mintOK(t, sid(s))

	e.setStatus(t, "melody", storage.UserDisabled)
	e.wantTokens(t, probePW, false, s.token, second)
	wantError(t, e.mint(t, sid(s)), 401, "Unauthorized")
	wantError(t, e.mint(t, bearer(s.token)), 401, "Unauthorized")
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/token").auth(bearer(second))), 401, "Unauthorized")
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(sid(s))), 401, "Unauthorized")
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(bearer(s.token))), 401, "Unauthorized")
	wantError(t, e.invoke(t, post("/v4/authentication", signInForm("melody", pw))), 401, "Invalid login")

	// Disabling deletes nothing: enabled again, the user's live sessions
	// and tokens work again.
	e.setStatus(t, "melody", storage.UserActive)
	e.wantTokens(t, probePW, true, s.token, second)
	e.mintOK(t, sid(s))
}

// TestBadInput sends bodies that cannot be read. Each holds a good
// sign-in form as far as it goes, so a lenient reader would sign in.
// TestLockedOutUser: a user locked out by failed sign-ins keeps the
// sessions and tokens they have, unlike a disabled user.
func TestLockedOutUser(t *testing.T) {
	e := newEnv(t, map[string]string{"MTAUTH_USER_LOCKOUT_LIMIT": "6"})
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)
	s := e.signIn(t, "melody", pw)
	for range 6 {
		wantError(t, e.invoke(t, post("/v4/authentication", signInForm("melody", "wrong"))), 401, "Invalid login")
	}
	wantError(t, e.invoke(t, post("/v4/authentication", signInForm("melody", pw))), 401, "Invalid login")

	e.wantTokens(t, probePW, true, s.token)
	token := e.mintOK(t, sid(s))
	e.mintOK(t, bearer(token))
	wantSuccess(t, e.invoke(t, request(http.MethodDelete, "/v4/token").auth(bearer(token))))
	wantSuccess(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(sid(s))))
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	const path = "/v4/authentication"
	good := signInForm("melody", pw)
	// padded is a good sign-in form of exactly size bytes.
	padded := func(size int) call {
		return postRaw(path, "application/x-www-form-urlencoded", paddedForm(t, good, size))
	}
	big := signInForm("melody", pw)
	big.Set("pad", strings.Repeat("x", maxBody))
	multi := postMultipart(path, good)
	boundary := multi.header["Content-Type"][strings.Index(multi.header["Content-Type"], "=")+1:]

	wantOK(t, e.invoke(t, padded(maxBody)))
	wantOK(t, e.invoke(t, padded(maxBody).inBase64()))
	wantOK(t, e.invoke(t, multi))

	brokenBase64 := post(path, good).inBase64()
	brokenBase64.body += "!!!!"
	truncated := multi
	truncated.body = strings.TrimSuffix(multi.body, "\r\n--"+boundary+"--\r\n")
	for name, tt := range map[string]struct {
		c       call
		code    int
		message string
	}{
		"urlencoded over 64 KiB":     {padded(maxBody + 1), 413, "Request Entity Too Large"},
		"base64 over 64 KiB":         {padded(maxBody + 1).inBase64(), 413, "Request Entity Too Large"},
		"multipart over 64 KiB":      {postMultipart(path, big), 413, "Request Entity Too Large"},
		"1 MiB":                      {padded(1 << 20), 413, "Request Entity Too Large"},
		"broken base64":              {brokenBase64, 400, "Bad Request"},
		"multipart, wrong boundary":  {multi.withHeader("Content-Type", "multipart/form-data; boundary=nope"), 400, "Bad Request"},
		"multipart, no boundary":     {multi.withHeader("Content-Type", "multipart/form-data"), 400, "Bad Request"},
		"multipart, truncated":       {truncated, 400, "Bad Request"},
		"bad percent-encoding":       {post(path, good).withBody(good.Encode() + "&x=%zz"), 400, "Bad Request"},
		"truncated percent-encoding": {post(path, good).withBody(good.Encode() + "&x=%4"), 400, "Bad Request"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, e.invoke(t, tt.c), tt.code, tt.message)
		})
	}
}

func TestStorageOutage(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)
	s := e.signIn(t, "melody", pw)
	before := e.items(t)

	e.flaky.down.Store(true)
	for name, c := range map[string]call{
		"sign in":                   post("/v4/authentication", signInForm("melody", pw)),
		"sign in, global check":     post("/v4/authentication", signInForm("melody", pw)).auth(bearer(s.token)),
		"new token by session id":   post("/v4/token", nil).auth(sid(s)),
		"new token by access token": post("/v4/token", nil).auth(bearer(s.token)),
		"revoke token":              request(http.MethodDelete, "/v4/token").auth(bearer(s.token)),
		"revoke token by __method":  post("/v4/token", url.Values{"__method": {"DELETE"}}).auth(bearer(s.token)),
		"sign out by session id":    request(http.MethodDelete, "/v4/authentication").auth(sid(s)),
		"sign out by access token":  request(http.MethodDelete, "/v4/authentication").auth(bearer(s.token)),
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, e.invoke(t, c), 503, "Service Unavailable")
			a := e.invoke(t, c.withQuery("suppressResponseCodes", "1"))
			if a.status != 200 || a.body != errorBody(503, "Service Unavailable") {
				t.Errorf("suppressed: got %d %s", a.status, a.body)
			}
		})
	}
	e.flaky.down.Store(false)

	// Nothing was half done.
	if after := e.items(t); after != before {
		t.Errorf("table went from %d to %d items during the outage", before, after)
	}
	e.wantTokens(t, probePW, true, s.token)
	e.mintOK(t, sid(s))
}

// TestRevokedDuringRequest revokes the access token a request presents
// after the request has read it and before it writes: the write must not
// happen.
func TestRevokedDuringRequest(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	s := e.signIn(t, "melody", pw)
	revokeMidway := func(token string) {
		hook := func() {
			err := e.app.Service.RevokeToken(t.Context(), auth.Credentials{AccessToken: token, AccessTokenPresented: true})
			if err != nil {
				t.Errorf("revoke: %v", err)
			}
		}
		e.flaky.beforeWrite.Store(&hook)
	}

	token := e.mintOK(t, sid(s))
	revokeMidway(token)
	before := e.items(t)
	wantError(t, e.mint(t, bearer(token)), 401, "Unauthorized")
	if after := e.items(t); after != before-1 {
		t.Errorf("table went from %d to %d items; want only the revoked token gone", before, after)
	}

	token = e.mintOK(t, sid(s))
	revokeMidway(token)
	wantError(t, e.invoke(t, request(http.MethodDelete, "/v4/authentication").auth(bearer(token))), 401, "Unauthorized")
	e.mintOK(t, sid(s)) // the session was not signed out
}

func TestSingleEndpointFunctions(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	probePW := e.signInUser(t, probe)
	functions := map[string]lambda.Handler{}
	for _, ep := range dataapi.Endpoints {
		functions[ep.ID] = e.function(ep)
	}
	s := e.signIn(t, "melody", pw)

	t.Run("get_token", func(t *testing.T) {
		fn := functions["get_token"]
		a := invoke(t, fn, post("/v4/token", nil).auth(sid(s)))
		token := fmt.Sprint(wantOK(t, a)["accessToken"])
		e.wantTokens(t, probePW, true, token)
		// API Gateway routes POST /token with __method=DELETE here.
		wantSuccess(t, invoke(t, fn, post("/v4/token", url.Values{"__method": {"delete"}}).auth(bearer(token))))
		e.wantTokens(t, probePW, false, token)
		e.wantTokens(t, probePW, true, s.token)
	})

	t.Run("authenticate", func(t *testing.T) {
		fn := functions["authenticate"]
		other := session{}
		body := wantOK(t, invoke(t, fn, post("/v4/authentication", signInForm("melody", pw))))
		other.id, other.token = fmt.Sprint(body["sessionId"]), fmt.Sprint(body["accessToken"])
		wantSuccess(t, invoke(t, fn, post("/v4/authentication", url.Values{"__method": {"DELETE"}}).auth(sid(other))))
		e.wantTokens(t, probePW, false, other.token)
	})

	t.Run("revoke_token", func(t *testing.T) {
		token := e.mintOK(t, sid(s))
		wantSuccess(t, invoke(t, functions["revoke_token"], request(http.MethodDelete, "/v4/token").auth(bearer(token))))
		e.wantTokens(t, probePW, false, token)
	})

	t.Run("revoke_authentication", func(t *testing.T) {
		other := e.signIn(t, "melody", pw)
		wantSuccess(t, invoke(t, functions["revoke_authentication"], request(http.MethodDelete, "/v4/authentication").auth(bearer(other.token))))
		e.wantTokens(t, probePW, false, other.token)
	})

	// Any other endpoint is 404, even with good credentials.
	for _, tt := range []struct {
		function string
		c        call
	}{
		{"get_token", post("/v4/authentication", signInForm("melody", pw))},
		{"get_token", request(http.MethodDelete, "/v4/token").auth(bearer(s.token))},
		{"get_token", request(http.MethodDelete, "/v4/authentication").auth(sid(s))},
		{"get_token", post("/v4/authentication", url.Values{"__method": {"DELETE"}}).auth(sid(s))},
		{"authenticate", post("/v4/token", nil).auth(sid(s))},
		{"authenticate", post("/v4/token", url.Values{"__method": {"DELETE"}}).auth(bearer(s.token))},
		{"authenticate", request(http.MethodDelete, "/v4/authentication").auth(sid(s))},
		{"revoke_token", post("/v4/token", nil).auth(sid(s))},
		{"revoke_token", request(http.MethodDelete, "/v4/authentication").auth(sid(s))},
		{"revoke_authentication", request(http.MethodDelete, "/v4/token").auth(bearer(s.token))},
	} {
		wantError(t, invoke(t, functions[tt.function], tt.c), 404, "Unknown endpoint")
	}
	// Nothing above touched the session.
	e.wantTokens(t, probePW, true, s.token)
	e.mintOK(t, sid(s))
}
