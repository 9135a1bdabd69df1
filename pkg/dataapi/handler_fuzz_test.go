package dataapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/dataapi"
	"github.com/mtauth/mtauth/pkg/secret"
	"github.com/mtauth/mtauth/pkg/storage"
	"github.com/mtauth/mtauth/pkg/storage/embedded"
)

// The fixture every fuzzing process builds identically, so committed
// seeds can carry working credentials: a user with a web services
// password, a session and its token, and a one-time token.
const (
	fuzzUser         = "melody"
	fuzzPassword     = "fuzz-web-services-password"
	fuzzSessionID    = "5e5510115e5510115e5510115e5510115e551011"
	fuzzAccessToken  = "70ce770ce770ce770ce770ce770ce770ce770ce7"
	fuzzOneTimeToken = "07707707707707707707707707707707707707ff"
	fuzzMagicToken   = "3a91c3a91c3a91c3a91c3a91c3a91c3a91c3a91c"
	// fuzzAllowedOrigin is the one CORS origin allowed.
	fuzzAllowedOrigin = "https://app.example.com"
	// fuzzWhitelistedIP is never locked out; fuzzLockableIP is, after 10
	// failures, so both paths of the lockout are reached.
	fuzzWhitelistedIP = "203.0.113.7"
	fuzzLockableIP    = "198.51.100.9"
)

var (
	fuzzRedirectHosts = []string{"app.example.com", "blog.example.com:8443"}
	fuzzAPIHosts      = []string{"mt.example.com", "localhost:3000"}
	fuzzMethods       = []string{http.MethodPost, http.MethodGet, http.MethodDelete, http.MethodOptions, http.MethodPut, http.MethodHead, "post", ""}
)

// fuzzFunctions are the Lambda functions fuzzed, by the fuzzed choice.
type fuzzFunctions [4]apigw.LambdaHandler

func newFuzzFunctions(f testing.TB) fuzzFunctions {
	f.Helper()
	settings, err := config.FromEnv(func(name string) string {
		return map[string]string{
			"MTAUTH_REDIRECT_HOSTS":       strings.Join(fuzzRedirectHosts, ","),
			"MTAUTH_CORS_ALLOW_ORIGIN":    fuzzAllowedOrigin,
			"MTAUTH_USER_LOCKOUT_LIMIT":   "0", // else the fixture user is soon locked for good
			"MTAUTH_LOCKOUT_IP_WHITELIST": "203.0.113.",
		}[name]
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx := f.Context()
	db, err := embedded.New(ctx, settings.TableName)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	a := app.New(settings, db, func() time.Time { return now }, slog.New(slog.DiscardHandler))

	// Both of the user's passwords (v1 and v2 check the sign-in
	// password, later versions the web services one) are stored in the
	// fast salted SHA-256 form of package password, so a sign-in with
	// the right password costs little.
	salt := []byte("fuzz-fixed-salt!")
	sum := sha256.Sum256(append(slices.Clone(salt), fuzzPassword...))
	b64 := base64.RawStdEncoding
	hash := "$sha256$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(sum[:])
	if err := a.Store.CreateUser(ctx, storage.User{
		ID: "fuzzuser", Username: fuzzUser, Status: storage.UserActive, Permissions: []string{auth.PermissionSignInDataAPI},
		PasswordHash: hash, WebServicesPasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		f.Fatal(err)
	}
	sessionHash := secret.Hash(fuzzSessionID)
	if err := a.Store.CreateSession(ctx, storage.Session{
		IDHash: sessionHash, Username: fuzzUser, ClientID: "test", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour),
	}, storage.AccessToken{
		IDHash: secret.Hash(fuzzAccessToken), SessionIDHash: sessionHash, Username: fuzzUser, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		f.Fatal(err)
	}
	if err := a.Store.CreateOneTimeToken(ctx, storage.OneTimeToken{
		IDHash: secret.Hash(fuzzOneTimeToken), Username: fuzzUser, ClientID: "test", ExpiresAt: now.Add(time.Minute),
	}); err != nil {
		f.Fatal(err)
	}
	function := func(serves ...dataapi.Endpoint) apigw.LambdaHandler {
		return apigw.Handler(a.API.Handler(serves...))
	}
	return fuzzFunctions{
		function(dataapi.Endpoints...), // catch_all
		function(dataapi.Authenticate),
		function(dataapi.GetToken),
		function(dataapi.RevokeToken),
	}
}

// fuzzInput is one fuzzed request; flags holds the fuzz* bits below.
type fuzzInput struct {
	method                                                  uint8
	path, query, authorization, contentType, accept, cookie string
	body                                                    string
	base64                                                  bool
	flags                                                   uint16
}

// The bits of fuzzInput.flags, and above them the function (an index of
// fuzzFunctions).
const (
	fuzzXHR            = 1 << iota // X-Requested-With: XMLHttpRequest
	fuzzOrigin                     // an Origin header: the allowed one, or
	fuzzOtherOrigin                // one not allowed
	fuzzMultiValueOnly             // headers in multiValueHeaders only (API Gateway fills both maps)
	fuzzLocalhost                  // the API host is localhost:3000, not mt.example.com
	fuzzHTTPS                      // X-Forwarded-Proto: https
	// fuzzWhitelisted sends from the whitelisted address; otherwise from
	// one soon locked out, whose sign-ins are then refused before any
	// password hashing, which keeps fuzzing fast.
	fuzzWhitelisted

	fuzzFunctionShift = 8
)

func (in fuzzInput) add(f *testing.F) {
	f.Add(in.method, in.path, in.query, in.authorization, in.contentType, in.accept, in.cookie, in.body, in.base64, in.flags)
}

func (in fuzzInput) flag(bit uint16) bool { return in.flags&bit != 0 }

func (in fuzzInput) host() string {
	if in.flag(fuzzLocalhost) {
		return fuzzAPIHosts[1]
	}
	return fuzzAPIHosts[0]
}

func (in fuzzInput) function() int { return int(in.flags>>fuzzFunctionShift) % len(fuzzFunctions{}) }

// event is the API Gateway event of the input, as a REST API proxy
// integration (payload 1.0) receives it.
func (in fuzzInput) event() events.APIGatewayProxyRequest {
	method := fuzzMethods[int(in.method)%len(fuzzMethods)]
	header := map[string]string{"Host": in.host()}
	set := func(name, value string) {
		if value != "" {
			header[name] = value
		}
	}
	set("X-MT-Authorization", in.authorization)
	set("Content-Type", in.contentType)
	set("Accept", in.accept)
	set("Cookie", in.cookie)
	if in.flag(fuzzXHR) {
		header["X-Requested-With"] = "XMLHttpRequest"
	}
	if in.flag(fuzzOrigin) {
		header["Origin"] = map[bool]string{false: fuzzAllowedOrigin, true: "https://evil.example"}[in.flag(fuzzOtherOrigin)]
	}
	if in.flag(fuzzHTTPS) {
		header["X-Forwarded-Proto"] = "https"
	}
	e := events.APIGatewayProxyRequest{
		Resource: "/{proxy+}", Path: in.path, HTTPMethod: method,
		MultiValueHeaders: map[string][]string{},
		Body:              in.body, IsBase64Encoded: in.base64,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: "fuzz", Stage: "Prod", HTTPMethod: method, ResourcePath: "/{proxy+}", Path: "/Prod" + in.path,
			Identity: events.APIGatewayRequestIdentity{SourceIP: fuzzLockableIP},
		},
	}
	if in.flag(fuzzWhitelisted) {
		e.RequestContext.Identity.SourceIP = fuzzWhitelistedIP
	}
	if !in.flag(fuzzMultiValueOnly) {
		e.Headers = header
	}
	for name, value := range header {
		e.MultiValueHeaders[name] = []string{value}
	}
	// API Gateway hands over the query decoded, as maps.
	if query, _ := url.ParseQuery(in.query); len(query) > 0 {
		e.MultiValueQueryStringParameters = query
		e.QueryStringParameters = map[string]string{}
		for name, values := range query {
			e.QueryStringParameters[name] = values[len(values)-1]
		}
	}
	return e
}

// fuzzStatuses are every status an answer may have.
var fuzzStatuses = []int{200, 303, 400, 401, 403, 404, 405, 413, 431}

// FuzzHandler sends fuzzed API Gateway events through the whole of a
// Lambda function (apigw.Handler over the Data API over the auth service
// over the in-memory DynamoDB) and checks every answer against what any
// answer must be: never an error or a 5xx, always the common headers,
// and either the Data API's error shape, a success, an HTML page or a
// redirect to an allowed host.
//
// The store lives for the whole fuzzing run, so what one input does
// (signing out the fixture session, locking out an address) is seen by
// later ones; the properties checked hold whatever the store holds.
func FuzzHandler(f *testing.F) {
	functions := newFuzzFunctions(f)
	for _, seed := range fuzzSeeds() {
		seed.in.add(f)
	}
	f.Fuzz(func(t *testing.T, method uint8, path, query, authorization, contentType, accept, cookie, body string, base64Body bool, flags uint16) {
		in := fuzzInput{method, path, query, authorization, contentType, accept, cookie, body, base64Body, flags}
		e := in.event()
		resp, err := functions[in.function()](t.Context(), e)
		if err != nil {
			t.Fatalf("handler returned an error: %v", err)
		}
		checkFuzzAnswer(t, in, e, resp)
	})
}

// TestFuzzHandlerSeeds keeps the seeds meaningful: each reaches what it
// was written for (a sign-in that works, a redirect, a refusal), so the
// fuzzer starts from every path and not only from refusals.
func TestFuzzHandlerSeeds(t *testing.T) {
	functions := newFuzzFunctions(t)
	for i, seed := range fuzzSeeds() {
		e := seed.in.event()
		resp, err := functions[seed.in.function()](t.Context(), e)
		if err != nil {
			t.Fatal(err)
		}
		checkFuzzAnswer(t, seed.in, e, resp)
		if seed.want != 0 && resp.StatusCode != seed.want {
			t.Errorf("seed %d, %s %s: got %d %.120q, want %d", i, e.HTTPMethod, e.Path, resp.StatusCode, resp.Body, seed.want)
		}
	}
}

// checkFuzzAnswer checks what every answer must be.
func checkFuzzAnswer(t *testing.T, in fuzzInput, e events.APIGatewayProxyRequest, resp events.APIGatewayProxyResponse) {
	t.Helper()
	h := http.Header{}
	for name, values := range resp.MultiValueHeaders {
		h[http.CanonicalHeaderKey(name)] = values
	}
	for name, value := range resp.Headers {
		h.Add(name, value)
	}
	if !slices.Contains(fuzzStatuses, resp.StatusCode) {
		t.Fatalf("%s %q: status %d, body %q", e.HTTPMethod, e.Path, resp.StatusCode, resp.Body)
	}
	for name, want := range map[string]string{"Cache-Control": "no-cache", "X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"} {
		if got := h.Values(name); len(got) != 1 || got[0] != want {
			t.Fatalf("%s %q: %s = %q, want %q", e.HTTPMethod, e.Path, name, got, want)
		}
	}
	// apigw base64-encodes a body that is not UTF-8: an HTML page that
	// echoes a username which is not UTF-8 comes back so.
	body := resp.Body
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			t.Fatalf("answer body is not base64: %v", err)
		}
		body = string(decoded)
	}

	switch contentType := h.Get("Content-Type"); {
	case contentType == "application/json":
		if resp.IsBase64Encoded {
			t.Fatalf("JSON answer %q is base64-encoded", body)
		}
		checkFuzzJSON(t, resp.StatusCode, body)
	case contentType == "text/html; charset=utf-8" && resp.StatusCode != http.StatusSeeOther:
		if !slices.Contains([]int{200, 400, 401, 403}, resp.StatusCode) || !strings.HasPrefix(body, "<!doctype html>") {
			t.Fatalf("HTML answer %d %.200q", resp.StatusCode, body)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("HTML answer without a strict Content-Security-Policy: %q", csp)
		}
	case resp.StatusCode == http.StatusSeeOther:
		checkFuzzRedirect(t, in, h.Get("Location"))
	case contentType == "" && resp.StatusCode == http.StatusOK && e.HTTPMethod == http.MethodOptions:
		if body != "" || h.Get("Allow") == "" {
			t.Fatalf("preflight answer: Allow %q, body %q", h.Get("Allow"), body)
		}
	default:
		t.Fatalf("%s %q: answer %d of Content-Type %q: %.200q", e.HTTPMethod, e.Path, resp.StatusCode, contentType, body)
	}

	// Cookies: the session and magic-token cookies are never readable by
	// script, are Secure over HTTPS, and a session is handed out only
	// with a successful sign-in.
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.SameSite != http.SameSiteLaxMode || c.Secure != in.flag(fuzzHTTPS) {
			t.Fatalf("Set-Cookie %q: want SameSite=Lax, Secure %v", line, in.flag(fuzzHTTPS))
		}
		secretCookie := strings.HasPrefix(c.Name, "mt_data_api_user_") || c.Name == "mt_data_api_login_magic_token"
		if secretCookie && !c.HttpOnly {
			t.Fatalf("Set-Cookie %q is readable by script", line)
		}
		if strings.HasPrefix(c.Name, "mt_data_api_user_") && c.MaxAge >= 0 && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("answer %d sets session cookie %q", resp.StatusCode, line)
		}
	}

	// CORS headers only for the allowed origin.
	if allow := h.Get("Access-Control-Allow-Origin"); allow != "" && (!in.flag(fuzzOrigin) || in.flag(fuzzOtherOrigin) || allow != fuzzAllowedOrigin) {
		t.Fatalf("Access-Control-Allow-Origin %q for Origin of flags %010b", allow, in.flags)
	}
}

// fuzzSuccessKeys are the key sets of the success answers.
var fuzzSuccessKeys = [][]string{
	{"status"},
	{"accessToken", "expiresIn"},
	{"accessToken", "expiresIn", "remember"},
	{"accessToken", "expiresIn", "remember", "sessionId"},
	{"oneTimeToken"},
}

func checkFuzzJSON(t *testing.T, status int, body string) {
	t.Helper()
	var answer map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		t.Fatalf("JSON answer %d %q: %v", status, body, err)
	}
	raw, isError := answer["error"]
	if !isError {
		keys := slices.Sorted(maps.Keys(answer))
		if status != http.StatusOK || !slices.ContainsFunc(fuzzSuccessKeys, func(want []string) bool { return slices.Equal(keys, want) }) {
			t.Fatalf("answer %d %q is neither a success nor an error", status, body)
		}
		return
	}
	var e struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	switch {
	case len(answer) != 1, dec.Decode(&e) != nil, e.Code == nil, e.Message == nil:
		t.Fatalf("error answer %q is not {\"error\":{\"code\",\"message\"}}", body)
	case *e.Code < 400 || *e.Code >= 500 || *e.Message == "":
		t.Fatalf("error answer %d %q", status, body)
	case status != *e.Code && status != http.StatusOK:
		t.Fatalf("error answer %q sent with status %d", body, status)
	}
}

// checkFuzzRedirect checks a 303 goes back to the API's own host or an
// allowed one, with a fragment the app expects.
func checkFuzzRedirect(t *testing.T, in fuzzInput, location string) {
	t.Helper()
	u, err := url.Parse(location)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.User != nil, u.Host == "":
		t.Fatalf("303 to %q", location)
	case u.Fragment != "_login" && !strings.HasPrefix(u.Fragment, "_ott_"):
		t.Fatalf("303 to %q: fragment is neither _login nor _ott_<token>", location)
	case u.Fragment == "_login" && asciiLower(u.Host) != asciiLower(in.host()):
		t.Fatalf("303 to %q: the app flow goes to another host than %q", location, in.host())
	}
	for _, h := range append([]string{in.host()}, fuzzRedirectHosts...) {
		if asciiLower(h) == asciiLower(u.Host) || asciiLower(h) == asciiLower(u.Hostname()) {
			return
		}
	}
	t.Fatalf("303 to %q, not an allowed host", location)
}

// asciiLower lower-cases ASCII letters only, as host names compare;
// strings.ToLower would also turn the Kelvin sign into k.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// fuzzSeed is a seed input and, in TestFuzzHandlerSeeds, the status it
// gets when the seeds run in order over a fresh fixture (0: unchecked).
type fuzzSeed struct {
	want int
	in   fuzzInput
}

// fuzzSeeds are requests of every kind the Data API gets, good and bad.
func fuzzSeeds() []fuzzSeed {
	const form = "application/x-www-form-urlencoded"
	const (
		methodPost uint8 = iota
		methodGet
		methodDelete
		methodOptions
		methodPut
	)
	signIn := url.Values{"clientId": {"test"}, "username": {fuzzUser}, "password": {fuzzPassword}}
	encode := func(v url.Values, extra ...string) string {
		w := url.Values{}
		for k, vs := range v {
			w[k] = vs
		}
		for i := 0; i+1 < len(extra); i += 2 {
			w.Set(extra[i], extra[i+1])
		}
		return w.Encode()
	}
	multipartOf := func(v url.Values, boundary string) (string, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		if err := w.SetBoundary(boundary); err != nil {
			panic(err)
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			_ = w.WriteField(k, v.Get(k))
		}
		_ = w.Close()
		return w.FormDataContentType(), buf.String()
	}
	mpType, mpBody := multipartOf(signIn, "fuzzboundary0123456789")
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	magicCookie := "mt_data_api_login_magic_token=" + fuzzMagicToken
	userCookie := "mt_data_api_user_test=" + fuzzUser + "::" + fuzzSessionID + "::1"
	appFlow := encode(signIn, "mtDataApiLoginMagicToken", fuzzMagicToken, "redirect_type", "app", "redirectUrl", "http://mt.example.com/app/")
	appFlowHTTPS := encode(signIn, "mtDataApiLoginMagicToken", fuzzMagicToken, "redirect_type", "app", "redirectUrl", "https://mt.example.com/app/")
	blogFlow := encode(signIn, "mtDataApiLoginMagicToken", fuzzMagicToken, "redirect_type", "blog", "redirectUrl", "https://app.example.com/cb")
	many := url.Values{}
	for i := range 70 {
		many.Set("p"+strings.Repeat("x", i), "1")
	}

	const (
		white     = fuzzWhitelisted
		getToken  = 2 << fuzzFunctionShift
		revokeTok = 3 << fuzzFunctionShift
	)
	// The order matters to TestFuzzHandlerSeeds: the session is signed
	// out last.
	return []fuzzSeed{
		// Sign-in on every version, urlencoded, multipart, base64.
		{200, fuzzInput{path: "/v1/authentication", contentType: form, body: encode(signIn), flags: white}},
		{200, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "remember", "1"), flags: white}},
		{200, fuzzInput{path: "/v7/authentication.json", contentType: form, body: encode(signIn), flags: white | fuzzMultiValueOnly}},
		{200, fuzzInput{path: "/v4/authentication", contentType: mpType, body: mpBody, flags: white}},
		{200, fuzzInput{path: "/v4/authentication", contentType: form, body: base64.StdEncoding.EncodeToString([]byte(encode(signIn))), base64: true, flags: white}},
		{200, fuzzInput{path: "/v4/authentication", contentType: mpType, body: base64.StdEncoding.EncodeToString([]byte(mpBody)), base64: true, flags: white}},
		{200, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "redirect_type", "blog"), flags: white}},
		{401, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "__method", "delete"), authorization: "MTAuth sessionId=" + fuzzSessionID + "0", flags: 1 << fuzzFunctionShift}},
		{401, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "password", "wrong")}},
		{401, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "username", "nobody"), flags: white}},
		{400, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "clientId", "bad id!")}},
		{200, fuzzInput{path: "/v4/authentication", contentType: form, query: "suppressResponseCodes=1", body: encode(signIn, "password", "")}},
		// Broken bodies.
		{400, fuzzInput{path: "/v4/authentication", contentType: "multipart/form-data; boundary=nope", body: mpBody}},
		{400, fuzzInput{path: "/v4/authentication", contentType: "multipart/form-data", body: mpBody}},
		{400, fuzzInput{path: "/v4/authentication", contentType: mpType, body: strings.TrimSuffix(mpBody, "--\r\n")}},
		{400, fuzzInput{path: "/v4/authentication", contentType: "multipart/form-data; boundary=\"\"", body: "--\r\n\r\n--"}},
		{400, fuzzInput{path: "/v4/authentication", contentType: form, body: "!!!!not base64", base64: true}},
		{400, fuzzInput{path: "/v4/authentication", contentType: form, body: "Y2xpZW50SWQ9dGVzd", base64: true}},
		{400, fuzzInput{path: "/v4/authentication", contentType: form, body: "\xff\xfe\x00", base64: true}},
		{400, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn) + "&x=%zz"}},
		{400, fuzzInput{path: "/v4/authentication", contentType: "application/json", body: `{"username":"melody","password":"x"}`}},
		{400, fuzzInput{path: "/v4/authentication", contentType: "text/plain; charset", body: encode(signIn)}},
		// Limits.
		{413, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "pad", strings.Repeat("x", 64<<10))}},
		{400, fuzzInput{path: "/v4/authentication", contentType: form, body: encode(signIn, "pad", strings.Repeat("x", 8<<10+1))}},
		{400, fuzzInput{path: "/v4/authentication", contentType: form, body: many.Encode()}},
		{431, fuzzInput{path: "/v4/token", authorization: "MTAuth accessToken=" + strings.Repeat("a", 4<<10+1)}},
		{431, fuzzInput{path: "/v4/token", accept: strings.Repeat("text/html,", 1700)}},
		// Browser sign-in.
		{200, fuzzInput{method: methodGet, path: "/v4/authorization", query: "clientId=test&redirectUrl=http%3A%2F%2Fmt.example.com%2Fapp%2F", flags: white}},
		{200, fuzzInput{method: methodGet, path: "/v2/authorization", query: "clientId=test&redirectUrl=https%3A%2F%2Fapp.example.com%2Fcb", flags: white | fuzzOrigin}},
		{200, fuzzInput{method: methodGet, path: "/v4/authorization", query: "clientId=test&redirectUrl=http%3A%2F%2Flocalhost%3A3000%2F", flags: white | fuzzLocalhost}},
		{400, fuzzInput{method: methodGet, path: "/v4/authorization", query: "clientId=test&redirectUrl=https%3A%2F%2Fapp.example.com%40evil.example%2F", flags: white}},
		{400, fuzzInput{method: methodGet, path: "/v4/authorization", query: "clientId=test&redirectUrl=javascript%3Aalert(1)", flags: white}},
		{400, fuzzInput{method: methodGet, path: "/v4/authorization", query: "clientId=test&redirectUrl=%2F%2Fapp.example.com%2F", flags: white}},
		{400, fuzzInput{method: methodGet, path: "/v4/authorization", query: "clientId=test&redirectUrl=https:%5C%5Cevil.example", flags: white}},
		{200, fuzzInput{method: methodGet, path: "/v4/authorization", authorization: "MTAuth accessToken=" + fuzzAccessToken, query: "clientId=test&redirectUrl=http%3A%2F%2Fmt.example.com%2F", flags: white}},
		{303, fuzzInput{path: "/v4/authentication", contentType: form, accept: browser, cookie: magicCookie, body: appFlow, flags: white}},
		{303, fuzzInput{path: "/v4/authentication", contentType: form, accept: browser, cookie: magicCookie, body: appFlowHTTPS, flags: white | fuzzHTTPS | 1<<fuzzFunctionShift}},
		// Over HTTPS a plain-HTTP redirect is refused: JSON, no redirect.
		{200, fuzzInput{path: "/v4/authentication", contentType: form, accept: browser, cookie: magicCookie, body: appFlow, flags: white | fuzzHTTPS | 1<<fuzzFunctionShift}},
		{303, fuzzInput{path: "/v4/authentication", contentType: form, accept: browser, cookie: magicCookie, body: blogFlow, flags: white}},
		{401, fuzzInput{path: "/v4/authentication", contentType: form, accept: browser, cookie: magicCookie, flags: white,
			body: encode(signIn, "password", "no", "mtDataApiLoginMagicToken", fuzzMagicToken, "redirectUrl", "https://app.example.com/cb")}},
		{200, fuzzInput{path: "/v4/authentication", contentType: form, accept: "*/*", cookie: magicCookie, body: appFlow, flags: white | fuzzXHR}},
		// Tokens.
		{200, fuzzInput{path: "/v4/token", authorization: "MTAuth sessionId=" + fuzzSessionID}},
		{401, fuzzInput{path: "/v4/token", authorization: `MTAuth sessionId="` + fuzzSessionID + `", accessToken=`}},
		{200, fuzzInput{path: "/v4/token", authorization: "MTAuth accessToken=" + fuzzAccessToken, flags: getToken}},
		{200, fuzzInput{path: "/v4/token", authorization: "MTAuth oneTimeToken=" + fuzzOneTimeToken}},
		{401, fuzzInput{path: "/v4/token", authorization: "MTAuth oneTimeToken=" + fuzzOneTimeToken}},
		{200, fuzzInput{path: "/v4/token", contentType: form, body: "clientId=test", cookie: userCookie}},
		// A user cookie whose username does not decode is no credential.
		{401, fuzzInput{path: "/v4/token", contentType: form, body: "clientId=test", cookie: "mt_data_api_user_test=%zz::" + fuzzSessionID + "::1"}},
		{200, fuzzInput{path: "/v4/token", contentType: form, body: "X-MT-Authorization=MTAuth+sessionId%3D" + fuzzSessionID}},
		{200, fuzzInput{path: "/v4/token", contentType: form, body: "__method=DELETE", authorization: "MTAuth accessToken=" + fuzzAccessToken, flags: getToken}},
		{401, fuzzInput{method: methodDelete, path: "/v4/token", authorization: "MTAuth accessToken=" + fuzzAccessToken, flags: revokeTok}},
		// Routing.
		{200, fuzzInput{method: methodOptions, path: "/v4/token", flags: fuzzOrigin}},
		{404, fuzzInput{method: methodOptions, path: "/v4/nothing", flags: fuzzOrigin | fuzzOtherOrigin}},
		{404, fuzzInput{method: methodPut, path: "/v4/token"}},
		{405, fuzzInput{method: methodGet, path: "/v4/token", query: "__method=DELETE"}},
		{404, fuzzInput{method: 6, path: "/v4/token"}}, // "post"
		{404, fuzzInput{method: 7, path: "/v4/token"}}, // no method
		{400, fuzzInput{path: "/token"}},
		{400, fuzzInput{path: "/v0/token"}},
		{400, fuzzInput{path: "/v07/token"}},
		{400, fuzzInput{path: "/v8/token"}},
		{400, fuzzInput{path: ""}},
		{401, fuzzInput{path: "/v4/token", flags: fuzzMultiValueOnly}},
		// Sign-out, last.
		{200, fuzzInput{method: methodDelete, path: "/v4/authentication", authorization: "MTAuth sessionId=" + fuzzSessionID, query: "clientId=test"}},
		{401, fuzzInput{path: "/v4/token", authorization: "MTAuth sessionId=" + fuzzSessionID}},
	}
}
