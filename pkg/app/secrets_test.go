package app_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/storage"
)

// Secrets are never logged (even at debug level) and never stored in
// clear: the tests run every flow, collecting each secret handed out or
// typed in, then search the log and every item of the table for them.

// secretList is every secret seen, with what it is.
type secretList struct {
	values []string
	kinds  map[string]string
}

func (l *secretList) add(t *testing.T, kind, v string) {
	t.Helper()
	if len(v) < 8 {
		t.Fatalf("%s %q is too short to search for", kind, v)
	}
	if l.kinds == nil {
		l.kinds = map[string]string{}
	}
	if _, seen := l.kinds[v]; !seen {
		l.values = append(l.values, v)
		l.kinds[v] = kind
	}
}

// fromAnswer collects the secrets a JSON answer hands out.
func (l *secretList) fromAnswer(t *testing.T, a answer) {
	t.Helper()
	for _, key := range []string{"sessionId", "accessToken", "oneTimeToken"} {
		if v := a.str(key); v != "" {
			l.add(t, key, v)
		}
	}
}

var ottFragment = regexp.MustCompile(`#_ott_([0-9a-f]{40})$`)

// runEveryFlow drives every flow of the Data API and returns the secrets
// it saw.
func runEveryFlow(t *testing.T, h *harness) *secretList {
	t.Helper()
	var l secretList
	const signInPW = "Sign-In-Pa55word-of-melody"
	ws, err := h.probe.Service.AddUser(t.Context(), auth.NewUser{
		Username: "melody", Permissions: []string{auth.PermissionSignInDataAPI}, Password: signInPW,
	})
	if err != nil {
		t.Fatal(err)
	}
	l.add(t, "sign-in password", signInPW)
	l.add(t, "web services password", ws)
	const chosenWS = "Chosen-Web-Services-Pa55word"
	if err := h.probe.Service.EnsureSignInUser(t.Context(), "chosen", "Chosen-Sign-In-Pa55word", chosenWS); err != nil {
		t.Fatal(err)
	}
	l.add(t, "sign-in password", "Chosen-Sign-In-Pa55word")
	l.add(t, "web services password", chosenWS)
	disabledPW := h.addUser(t, "gone")
	l.add(t, "web services password", disabledPW)
	if err := h.probe.Service.SetStatus(t.Context(), "gone", storage.UserDisabled); err != nil {
		t.Fatal(err)
	}
	ok := func(a answer) answer {
		t.Helper()
		if a.status != http.StatusOK && a.status != http.StatusSeeOther {
			t.Fatalf("got %d %s", a.status, a.body)
		}
		l.fromAnswer(t, a)
		return a
	}

	// Sign in on every version, with and without remember.
	var sessions []session
	for v := 1; v <= 7; v++ {
		pw := ws
		if v <= 2 {
			pw = signInPW
		}
		form := signInForm("melody", pw)
		form.Set("remember", fmt.Sprint(v%2))
		a := ok(h.do(t, post(fmt.Sprintf("/v%d/authentication", v), form)))
		sessions = append(sessions, session{id: a.str("sessionId"), token: a.str("accessToken")})
	}
	ok(h.do(t, post("/v4/authentication", signInForm("chosen", chosenWS))))
	// The password in the query string, and in a multipart body as the
	// JavaScript SDK sends it.
	inQuery := post("/v4/authentication", url.Values{"clientId": {"q"}, "username": {"melody"}})
	inQuery.query = url.Values{"password": {ws}}
	ok(h.do(t, inQuery))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range signInForm("melody", ws) {
		_ = mw.WriteField(k, v[0])
	}
	_ = mw.Close()
	ok(h.do(t, call{method: http.MethodPost, path: "/v4/authentication", body: body.String(), contentType: mw.FormDataContentType()}))

	// Tokens: by session id, by access token, the global check, revoke,
	// sign out both ways.
	s := sessions[3]
	t1 := ok(h.do(t, post("/v4/token", nil).auth(bySession(s.id)))).str("accessToken")
	t2 := ok(h.do(t, post("/v4/token", nil).auth(byToken(t1)))).str("accessToken")
	ok(h.do(t, post("/v4/authentication", signInForm("melody", ws)).auth(byToken(t2))))
	ok(h.do(t, del("/v4/token").auth(byToken(t1))))
	ok(h.do(t, post("/v4/token", url.Values{"__method": {"DELETE"}}).auth(byToken(t2))))
	ok(h.do(t, del("/v4/authentication").auth(bySession(sessions[4].id))))
	ok(h.do(t, del("/v4/authentication").auth(byToken(sessions[5].token))))
	// X-MT-Authorization in the form, as the JavaScript SDK may send it.
	ok(h.do(t, post("/v4/token", url.Values{"X-MT-Authorization": {bySession(s.id)}})))

	// The browser's app flow: the sign-in screen, its magic token, the
	// session cookie, and tokens through it; with script and without.
	for _, accept := range []string{"", "text/html"} {
		fx := &fixture{user: "melody", pw: ws}
		openSignInScreen(t, h, fx)
		l.add(t, "magic token", fx.magic)
		c := post("/v4/authentication", browserForm(fx, "app")).with("Cookie", "mt_data_api_login_magic_token="+fx.magic)
		if accept == "" {
			c = c.with("X-Requested-With", "XMLHttpRequest")
		} else {
			c = c.with("Accept", accept)
		}
		a := ok(h.do(t, c))
		userCookie, found := a.cookie("mt_data_api_user_app")
		parts := strings.Split(userCookie, "::")
		if !found || len(parts) != 3 {
			t.Fatalf("app flow: user cookie %q", userCookie)
		}
		l.add(t, "session id", parts[1])
		if jsonCookie, found := a.cookie("mt_data_api_access_token"); found {
			decoded, _ := url.QueryUnescape(jsonCookie)
			l.fromAnswer(t, answer{body: decoded})
		}
		ok(h.do(t, post("/v4/token", url.Values{"clientId": {"app"}}).with("Cookie", "mt_data_api_user_app="+userCookie)))
		ok(h.do(t, del("/v4/authentication").auth(bySession(parts[1])).with("Cookie", "mt_data_api_user_app="+userCookie)))
	}

	// The blog flow: the one-time token in the redirect, and exchanged.
	screen := h.do(t, get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + redirectHost + "/app/"}}))
	magic, _ := screen.cookie("mt_data_api_login_magic_token")
	l.add(t, "magic token", magic)
	form := url.Values{
		"clientId": {"app"}, "username": {"melody"}, "password": {ws}, "mtDataApiLoginMagicToken": {magic},
		"redirect_type": {"blog"}, "redirectUrl": {"https://" + redirectHost + "/app/"},
	}
	a := ok(h.do(t, post("/v4/authentication", form).with("Cookie", "mt_data_api_login_magic_token="+magic).with("Accept", "text/html")))
	m := ottFragment.FindStringSubmatch(a.header.Get("Location"))
	if m == nil {
		t.Fatalf("blog flow redirect %q", a.header.Get("Location"))
	}
	l.add(t, "one-time token", m[1])
	ok(h.do(t, post("/v4/token", nil).auth(byOneTime(m[1]))))
	// A one-time token asked for directly, exchanged, and one left for
	// the table scan.
	blog := signInForm("melody", ws)
	blog.Set("redirect_type", "blog")
	ott := ok(h.do(t, post("/v4/authentication", blog))).str("oneTimeToken")
	ok(h.do(t, post("/v4/token", nil).auth(byOneTime(ott))))
	ok(h.do(t, post("/v4/authentication", blog)))

	// Failures of every kind.
	const wrong = "Wr0ng-Guess-Of-A-Pa55word"
	l.add(t, "wrong password", wrong)
	for _, c := range []call{
		post("/v4/authentication", signInForm("melody", wrong)),
		post("/v1/authentication", signInForm("melody", ws)), // the web services password on v1
		post("/v4/authentication", signInForm("ghost", wrong)),
		post("/v4/authentication", signInForm("gone", disabledPW)),
		post("/v4/token", nil).auth(byToken(t1)),
		post("/v4/token", nil).auth(byOneTime(ott)),
		del("/v4/token").auth(bySession(s.id)),
		post("/v4/authentication", signInForm("melody", ws)).auth(byToken(t1)),
		del("/v4/authentication").auth(bySession(sessions[4].id)),
	} {
		if a := h.do(t, c); a.status != http.StatusUnauthorized {
			t.Errorf("%s %s: %d %s, want 401", c.method, c.path, a.status, a.body)
		}
	}

	// Lockout: six failures, then the right password is refused.
	for i := range 6 {
		wantError(t, h.do(t, post("/v4/authentication", signInForm("chosen", wrong)).from(fmt.Sprintf("198.51.100.%d", i+1))), 401, "Invalid login")
	}
	wantError(t, h.do(t, post("/v4/authentication", signInForm("chosen", chosenWS))), 401, "Invalid login")
	if len(h.logs.events(t, "locked_out")) == 0 {
		t.Errorf("the lockout was not logged")
	}

	// An outage in the middle of minting and of signing in.
	h.faults.arm(fault{op: txWrite, err: kind500})
	wantError(t, h.do(t, post("/v4/token", nil).auth(bySession(s.id))), 503, "Service Unavailable")
	wantError(t, h.do(t, post("/v4/authentication", signInForm("melody", ws))), 503, "Service Unavailable")
	h.faults.disarm()
	return &l
}

// TestSecretsNotLogged: with logging at its most verbose, no password,
// session id, access token, one-time token or magic token appears in any
// log line.
func TestSecretsNotLogged(t *testing.T) {
	h := newHarness(t, nil)
	if !h.app.Log.Enabled(t.Context(), slog.LevelDebug) {
		t.Fatal("the logger is not at debug level")
	}
	l := runEveryFlow(t, h)
	log := h.logs.String()
	if n := len(h.logs.records(t)); n < 30 {
		t.Fatalf("only %d log lines: the flows logged too little to prove anything", n)
	}
	kinds := map[string]int{}
	for _, v := range l.values {
		kinds[l.kinds[v]]++
		if strings.Contains(log, v) {
			t.Errorf("a %s appears in the log", l.kinds[v])
		}
	}
	for _, kind := range []string{"sign-in password", "web services password", "wrong password", "sessionId", "session id", "accessToken", "oneTimeToken", "one-time token", "magic token"} {
		if kinds[kind] == 0 {
			t.Errorf("the flows saw no %s", kind)
		}
	}
	t.Logf("%d secrets searched in %d log bytes: %v", len(l.values), len(log), kinds)
}

// attributeStrings returns every string an attribute value holds, at any
// depth.
func attributeStrings(v types.AttributeValue) []string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return []string{v.Value}
	case *types.AttributeValueMemberN:
		return []string{v.Value}
	case *types.AttributeValueMemberB:
		return []string{string(v.Value)}
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberNS:
		return v.Value
	case *types.AttributeValueMemberBS:
		var out []string
		for _, b := range v.Value {
			out = append(out, string(b))
		}
		return out
	case *types.AttributeValueMemberL:
		var out []string
		for _, e := range v.Value {
			out = append(out, attributeStrings(e)...)
		}
		return out
	case *types.AttributeValueMemberM:
		var out []string
		for k, e := range v.Value {
			out = append(out, k)
			out = append(out, attributeStrings(e)...)
		}
		return out
	}
	return nil
}

var (
	hashedKey    = regexp.MustCompile(`^(SESSION|TOKEN|OTT)#[0-9a-f]{64}$`)
	passwordHash = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$|^\$sha256\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
)

// TestSecretsNotStored: after every flow, no item of the table holds a
// secret in clear; sessions, tokens and one-time tokens are keyed by a
// SHA-256, and passwords are argon2id or salted SHA-256 strings.
func TestSecretsNotStored(t *testing.T) {
	h := newHarness(t, nil)
	l := runEveryFlow(t, h)
	items := h.scan(t)
	kinds := map[string]int{}
	for _, item := range items {
		kind := attributeStrings(item["kind"])
		if len(kind) != 1 {
			t.Fatalf("item without kind: %v", item)
		}
		kinds[kind[0]]++
		for name, v := range item {
			for _, s := range append(attributeStrings(v), name) {
				for _, secret := range l.values {
					if strings.Contains(s, secret) {
						t.Errorf("%s item: attribute %s holds a %s in clear", kind[0], name, l.kinds[secret])
					}
				}
			}
		}
		pk := attributeStrings(item["pk"])[0]
		switch kind[0] {
		case "session", "token", "oneTimeToken":
			if !hashedKey.MatchString(pk) {
				t.Errorf("%s item keyed %q, want a SHA-256", kind[0], pk)
			}
		case "user":
			for _, name := range []string{"passwordHash", "webServicesPasswordHash"} {
				if v, set := item[name]; set {
					if hash := attributeStrings(v)[0]; !passwordHash.MatchString(hash) {
						t.Errorf("user %s: %s %q is not an argon2id (19 MiB, t=2, p=1) or salted SHA-256 string", pk, name, hash)
					}
				}
			}
		}
	}
	for _, kind := range []string{"user", "session", "token", "oneTimeToken", "counter"} {
		if kinds[kind] == 0 {
			t.Errorf("no %s item to look at", kind)
		}
	}
	t.Logf("%d items (%v) searched for %d secrets", len(items), kinds, len(l.values))
}
