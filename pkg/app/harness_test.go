package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// The harness shared by the fault, concurrency, secrets, lockout and
// audit tests: one mtauth built by app.New, driven as Lambda drives it
// (an API Gateway REST proxy event as JSON through aws-lambda-go's own
// decoding into apigw.Handler), over a DynamoDB client wrapped as
// app -> recording (budget_test.go) -> faulty (faults_test.go) -> DynamoDB.

// logBuffer collects the JSON log lines written by concurrent requests.
type logBuffer struct{ testkit.Buffer }

// records decodes every line; a line that is not one JSON object fails
// the test, since CloudWatch Logs Insights could not query it.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not a JSON object: %v: %s", err, line)
		}
		recs = append(recs, rec)
	}
	return recs
}

// events returns the records whose "event" is name.
func (b *logBuffer) events(t *testing.T, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range b.records(t) {
		if rec["event"] == name {
			out = append(out, rec)
		}
	}
	return out
}

// harness is one mtauth over one table.
type harness struct {
	settings config.Settings
	raw      dynamo.API // the database itself: never faulted, never recorded
	faults   *faulty
	rec      *recording
	app      *app.App
	// probe is a second mtauth over raw, for looking at the state without
	// going through the faults or the recording.
	probe *app.App
	clock *testkit.Clock
	logs  *logBuffer
	// handler is the function's handler; each request wraps it in its own
	// lambda.NewHandler (see doCtx).
	handler apigw.LambdaHandler
	reqs    atomic.Int64
}

// testTable is the table name of the embedded harnesses.
const testTable = "mtauth-test"

// redirectHost is the other host the browser sign-in may redirect to (the
// "blog" flow); apiHost is the API's own host (the "app" flow).
const (
	redirectHost = "blog.example.com"
	apiHost      = "api.example.com"
)

// newHarness builds mtauth over a fresh embedded table, its settings read
// as Lambda reads them with env as the only variables set (besides the
// allowed redirect host).
func newHarness(t *testing.T, env map[string]string) *harness {
	t.Helper()
	raw, err := embedded.New(t.Context(), testTable)
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessOn(t, raw, testTable, env)
}

// newHarnessOn builds mtauth over an existing table.
func newHarnessOn(t *testing.T, raw dynamo.API, table string, env map[string]string) *harness {
	t.Helper()
	vars := map[string]string{"TABLE_NAME": table, "MTAUTH_REDIRECT_HOSTS": redirectHost, "MTAUTH_LOG_LEVEL": "debug"}
	for k, v := range env {
		vars[k] = v
	}
	settings, err := config.FromEnv(func(name string) string { return vars[name] })
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		settings: settings,
		raw:      raw,
		clock:    testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)),
		logs:     &logBuffer{},
	}
	h.faults = &faulty{}
	h.rec = &recording{}
	db := dynamotest.Intercept(dynamotest.Intercept(raw, h.faults.hook), h.rec.hook)
	h.app = app.New(settings, db, h.clock.Now, app.NewLogger(h.logs, slog.LevelDebug))
	h.probe = app.New(settings, raw, h.clock.Now, slog.New(slog.DiscardHandler))
	h.handler = apigw.Handler(h.app.API.Handler(dataapi.Endpoints...))
	return h
}

// addUser creates an active user allowed to sign in to the Data API, with
// a generated web services password (fast to check), which it returns.
func (h *harness) addUser(t *testing.T, username string) string {
	t.Helper()
	pw, err := h.probe.Service.AddUser(t.Context(), auth.NewUser{Username: username, Permissions: []string{auth.PermissionSignInDataAPI}})
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// call is one HTTP request as API Gateway receives it.
type call struct {
	method, path string
	form         url.Values // urlencoded POST body
	query        url.Values
	header       map[string]string
	ip           string // requestContext.identity.sourceIp
	// body and contentType, if set, replace the urlencoded form.
	body, contentType string
}

// defaultIP is the source address of requests that name none.
const defaultIP = "203.0.113.7"

func post(path string, form url.Values) call {
	return call{method: http.MethodPost, path: path, form: form}
}

func del(path string) call { return call{method: http.MethodDelete, path: path} }

func get(path string, query url.Values) call {
	return call{method: http.MethodGet, path: path, query: query}
}

// with returns c with one more header.
func (c call) with(name, value string) call {
	h := map[string]string{}
	for k, v := range c.header {
		h[k] = v
	}
	h[name] = value
	c.header = h
	return c
}

func (c call) auth(value string) call { return c.with("X-MT-Authorization", value) }

func (c call) from(ip string) call {
	c.ip = ip
	return c
}

// event is the API Gateway REST proxy event for c.
func (c call) event(requestID string) []byte {
	header := map[string]string{"Host": apiHost, "X-Forwarded-Proto": "https", "User-Agent": "mtauth-test"}
	var body string
	if c.form != nil {
		header["Content-Type"] = "application/x-www-form-urlencoded"
		body = c.form.Encode()
	}
	if c.body != "" {
		header["Content-Type"] = c.contentType
		body = c.body
	}
	for k, v := range c.header {
		header[k] = v
	}
	ip := c.ip
	if ip == "" {
		ip = defaultIP
	}
	return apigwtest.Request{
		Method: c.method, Path: c.path, Header: header, Query: c.query, Body: body,
		SourceIP: ip, UserAgent: "mtauth-test", RequestID: requestID,
	}.Event()
}

// answer is a function's response as API Gateway turns it into HTTP.
type answer struct {
	status    int
	header    http.Header
	body      string
	requestID string
}

// str returns a string field of a JSON answer ("" if absent).
func (a answer) str(key string) string {
	var body map[string]any
	_ = json.Unmarshal([]byte(a.body), &body)
	s, _ := body[key].(string)
	return s
}

// cookie returns the value of the cookie the answer sets under name.
func (a answer) cookie(name string) (string, bool) {
	resp := http.Response{Header: a.header}
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// do runs c through the Lambda handler with the test's context.
func (h *harness) do(t *testing.T, c call) answer {
	t.Helper()
	return h.doCtx(t.Context(), t, c)
}

func (h *harness) doCtx(ctx context.Context, t *testing.T, c call) answer {
	t.Helper()
	id := fmt.Sprintf("req-%d", h.reqs.Add(1))
	// aws-lambda-go's Invoke returns a slice of a pooled buffer that it has
	// already put back for the next invocation: fine in Lambda, which
	// invokes one at a time, but concurrent requests through one
	// lambda.Handler read each other's answers. So each request gets its
	// own (still the real decode path).
	resp, err := apigwtest.Invoke(ctx, lambda.NewHandler(h.handler), c.event(id))
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return answer{status: resp.Status, header: resp.Header, body: resp.Body, requestID: id}
}

func errorBody(code int, message string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q}}`, code, message)
}

// wantError checks a is the Data API error with this code and message.
func wantError(t *testing.T, a answer, code int, message string) {
	t.Helper()
	if a.status != code || a.body != errorBody(code, message) {
		t.Errorf("got %d %s, want %d %s", a.status, a.body, code, errorBody(code, message))
	}
}

func wantStatus(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("got %d %s, want %d", a.status, a.body, status)
	}
}

var hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// session is what a sign-in hands out.
type session struct{ id, token string }

func signInForm(username, pw string) url.Values {
	return url.Values{"clientId": {"test"}, "username": {username}, "password": {pw}}
}

func bySession(id string) string    { return "MTAuth sessionId=" + id }
func byToken(token string) string   { return "MTAuth accessToken=" + token }
func byOneTime(token string) string { return "MTAuth oneTimeToken=" + token }

// signIn signs in on v4 and returns the new session.
func (h *harness) signIn(t *testing.T, username, pw string) session {
	t.Helper()
	return h.signInWith(t, post("/v4/authentication", signInForm(username, pw)))
}

func (h *harness) signInWith(t *testing.T, c call) session {
	t.Helper()
	a := h.do(t, c)
	wantStatus(t, a, http.StatusOK)
	s := session{id: a.str("sessionId"), token: a.str("accessToken")}
	if !hex40.MatchString(s.id) || !hex40.MatchString(s.token) {
		t.Fatalf("sign-in answered %s", a.body)
	}
	return s
}

// mintOK mints a token with these credentials and returns it.
func (h *harness) mintOK(t *testing.T, authorization string) string {
	t.Helper()
	a := h.do(t, post("/v4/token", nil).auth(authorization))
	wantStatus(t, a, http.StatusOK)
	token := a.str("accessToken")
	if !hex40.MatchString(token) {
		t.Fatalf("POST /token answered %s", a.body)
	}
	return token
}

// tokenWorks reports whether an access token passes the Data API's global
// check now, asked of the database directly (it changes nothing).
func (h *harness) tokenWorks(t *testing.T, token string) bool {
	t.Helper()
	switch err := h.probe.Service.CheckAccessToken(t.Context(), token); {
	case err == nil:
		return true
	case errors.Is(err, auth.ErrUnauthorized):
		return false
	default:
		t.Fatalf("check access token: %v", err)
		return false
	}
}

// sessionAlive reports whether a session id still names a live session.
func (h *harness) sessionAlive(t *testing.T, id string) bool {
	t.Helper()
	switch _, err := h.probe.Store.GetSession(t.Context(), secret.Hash(id), h.clock.Now()); {
	case err == nil:
		return true
	case errors.Is(err, storage.ErrNotFound):
		return false
	default:
		t.Fatalf("get session: %v", err)
		return false
	}
}

// scan returns every item in the table, read from the database itself.
func (h *harness) scan(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	in := &dynamodb.ScanInput{TableName: &h.settings.TableName}
	var items []map[string]types.AttributeValue
	for {
		out, err := h.raw.Scan(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// tally counts the items of each kind, and sums the counters' counts
// under "failures".
func (h *harness) tally(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, item := range h.scan(t) {
		kind, _ := item["kind"].(*types.AttributeValueMemberS)
		if kind == nil {
			t.Fatalf("item without kind: %v", item)
		}
		n[kind.Value]++
		if c, ok := item["count"].(*types.AttributeValueMemberN); ok {
			var count int
			fmt.Sscan(c.Value, &count)
			n["failures"] += count
		}
	}
	return n
}
