package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
	"github.com/mtauth/mtauth/pkg/storage/dynamo/dynamotest"
)

// fault is what faulty does to one call.
type fault struct {
	// at fails the at-th call (1-based) after arming; op, if set instead,
	// fails every call of that operation.
	at int
	op string
	// err is what the failed call returns.
	err error
	// applied forwards the call to DynamoDB first and then reports err:
	// DynamoDB did the work but the reply was lost (a timeout or a 500
	// after the write).
	applied bool
	// hang blocks the call until its context ends, as an unreachable
	// DynamoDB does, and returns the context's error.
	hang bool
	// before, if set, runs just before the failed call, as a concurrent
	// request would between this request's calls.
	before func()
}

// faulty injects faults into the DynamoDB calls made through its hook
// (wrap the database with dynamotest.Intercept).
type faulty struct {
	mu    sync.Mutex
	armed *fault
	n     int
	// onCall, if set, sees the context of every call.
	onCall func(ctx context.Context, op string)
}

// arm injects f from the next call on; disarm stops injecting.
func (f *faulty) arm(fl fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.n = &fl, 0
}

func (f *faulty) disarm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = nil
}

// hit reports the fault to inject into this call of op, if any.
func (f *faulty) hit(op string) *fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.armed == nil {
		return nil
	}
	f.n++
	if (f.armed.op != "" && f.armed.op == op) || (f.armed.op == "" && f.armed.at == f.n) {
		return f.armed
	}
	return nil
}

// hook is a dynamotest.Hook: it makes the call unless the armed fault
// hits it, and otherwise does what the fault says.
func (f *faulty) hook(ctx context.Context, op string, call func(context.Context) error) error {
	f.mu.Lock()
	onCall := f.onCall
	f.mu.Unlock()
	if onCall != nil {
		onCall(ctx, op)
	}
	fl := f.hit(op)
	if fl == nil {
		return call(ctx)
	}
	if fl.before != nil {
		fl.before()
	}
	switch {
	case fl.hang:
		<-ctx.Done()
		return ctx.Err()
	case fl.applied:
		_ = call(ctx)
	}
	return fl.err
}

// faultKinds are the failures DynamoDB (or the way to it) produces. The
// first three are refused before DynamoDB applied anything; the last two
// are replies lost after DynamoDB applied the call.
var faultKinds = []struct {
	name    string
	err     error
	applied bool
}{
	{"throttled", &types.ProvisionedThroughputExceededException{Message: aws.String("injected throttling")}, false},
	{"500", &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected server error"}, false},
	{"timeout", context.DeadlineExceeded, false},
	{"500 after applying", &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected server error"}, true},
	{"timeout after applying", context.DeadlineExceeded, true},
}

// Call names, as recorded.
const (
	getItem   = "GetItem"
	putItem   = "PutItem"
	update    = "UpdateItem"
	deleteOp  = "DeleteItem"
	txGet     = "TransactGetItems"
	txWrite   = "TransactWriteItems"
	otherUser = "bystander"
)

// fixture is the state a fault case starts from.
type fixture struct {
	user, pw string
	// s is the session the request acts on; tokens are all its access
	// tokens (s.token first); target is the one a revocation names.
	s      session
	tokens []string
	target string
	ott    string
	magic  string
	// bystander is another user's session, which no fault may touch.
	bystander session
	before    map[string]int
}

// baseFixture signs melody in and mints two more tokens for the session,
// and signs in a bystander.
func baseFixture(t *testing.T, h *harness) *fixture {
	t.Helper()
	fx := &fixture{user: "melody", pw: h.addUser(t, "melody")}
	fx.bystander = h.signIn(t, otherUser, h.addUser(t, otherUser))
	fx.s = h.signIn(t, fx.user, fx.pw)
	fx.tokens = []string{fx.s.token, h.mintOK(t, bySession(fx.s.id)), h.mintOK(t, bySession(fx.s.id))}
	fx.target = fx.tokens[1]
	return fx
}

// fail makes n refused sign-ins of user, from distinct addresses so the
// address lockout stays out of the way.
func fail(t *testing.T, h *harness, user string, n int) {
	t.Helper()
	for i := range n {
		wantError(t, h.do(t, post("/v4/authentication", signInForm(user, "wrong")).from(fmt.Sprintf("198.51.100.%d", i+1))), 401, "Invalid login")
	}
}

// browserForm is the sign-in screen's post.
func browserForm(fx *fixture, flow string) url.Values {
	return url.Values{
		"clientId": {"app"}, "username": {fx.user}, "password": {fx.pw},
		"mtDataApiLoginMagicToken": {fx.magic}, "redirect_type": {flow},
		"redirectUrl": {"https://" + apiHost + "/app/"},
	}
}

// openSignInScreen gets the sign-in screen's magic token.
func openSignInScreen(t *testing.T, h *harness, fx *fixture) {
	t.Helper()
	a := h.do(t, get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + apiHost + "/app/"}}))
	wantStatus(t, a, http.StatusOK)
	var ok bool
	if fx.magic, ok = a.cookie("mt_data_api_login_magic_token"); !ok {
		t.Fatal("the sign-in screen set no magic token cookie")
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// outcome is where a fault hit: the operation, whether DynamoDB applied
// it, and whether an earlier call of the request wrote.
type outcome struct {
	op      string
	index   int // in the recorded sequence, from 0
	applied bool
}

// wrote reports whether the faulted call was op and DynamoDB applied it.
func (o outcome) wrote(op string) bool { return o.op == op && o.applied }

type faultCase struct {
	name string
	env  map[string]string
	// setup builds the state before the request; nil is baseFixture.
	setup func(t *testing.T, h *harness) *fixture
	call  func(fx *fixture) call
	// calls is the DynamoDB call sequence the request makes without a
	// fault; parallelFrom is the index from which the calls run
	// concurrently (all of them are made even when one fails), or 0.
	calls        []string
	parallelFrom int
	// status is the answer without a fault.
	status int
	// during, if set, runs just before the faulted call, as a concurrent
	// request would.
	during func(t *testing.T, h *harness, fx *fixture)
	// check asserts the stored state after the fault is an allowed one.
	check func(t *testing.T, h *harness, fx *fixture, o outcome)
}

// wantSession checks that every credential of the session works, or none.
func wantSession(t *testing.T, h *harness, fx *fixture, alive bool) {
	t.Helper()
	if got := h.sessionAlive(t, fx.s.id); got != alive {
		t.Errorf("session alive = %v, want %v", got, alive)
	}
	for i, token := range fx.tokens {
		if got := h.tokenWorks(t, token); got != alive {
			t.Errorf("token %d of the session works = %v, want %v (a session half signed out)", i, got, alive)
		}
	}
}

func wantDelta(t *testing.T, h *harness, fx *fixture, kind string, want int) {
	t.Helper()
	if got := h.tally(t)[kind] - fx.before[kind]; got != want {
		t.Errorf("%s items changed by %d, want %d", kind, got, want)
	}
}

// checkSignIn: a session (with its first token) exists only if the write
// was applied; then it is an orphan nobody holds, removed by its TTL.
func checkSignIn(t *testing.T, h *harness, fx *fixture, o outcome) {
	t.Helper()
	wantDelta(t, h, fx, "session", b2i(o.wrote(txWrite)))
	wantDelta(t, h, fx, "token", b2i(o.wrote(txWrite)))
	wantSession(t, h, fx, true)
}

// checkMint: a token exists only if the write was applied (an orphan);
// the session and every token it had live on.
func checkMint(t *testing.T, h *harness, fx *fixture, o outcome) {
	t.Helper()
	wantDelta(t, h, fx, "token", b2i(o.wrote(txWrite)))
	wantSession(t, h, fx, true)
}

// checkSignOut: the session is fully alive or fully gone, never half.
func checkSignOut(t *testing.T, h *harness, fx *fixture, o outcome) {
	t.Helper()
	wantSession(t, h, fx, !o.wrote(txWrite))
}

// checkUnchanged: the request changed nothing.
func checkUnchanged(t *testing.T, h *harness, fx *fixture, o outcome) {
	t.Helper()
	for kind, n := range h.tally(t) {
		if n != fx.before[kind] {
			t.Errorf("%s items went from %d to %d", kind, fx.before[kind], n)
		}
	}
	wantSession(t, h, fx, true)
}

// mintDuring mints a token for the session just before the faulted call
// of a sign-out: it must share the session's fate.
func mintDuring(t *testing.T, h *harness, fx *fixture) {
	tok, err := h.probe.Service.IssueToken(t.Context(), auth.Credentials{SessionID: fx.s.id})
	if err != nil {
		t.Errorf("concurrent mint: %v", err)
		return
	}
	fx.tokens = append(fx.tokens, tok.AccessToken)
}

// signOutDuring signs the session out just before the faulted call of a
// mint: whatever the mint did, no token of the session may work after.
func signOutDuring(t *testing.T, h *harness, fx *fixture) {
	if err := h.probe.Service.SignOut(t.Context(), auth.Credentials{SessionID: fx.s.id}); err != nil {
		t.Errorf("concurrent sign-out: %v", err)
	}
}

var lockoutOn = map[string]string{"MTAUTH_USER_LOCKOUT_LIMIT": "6", "MTAUTH_IP_LOCKOUT_LIMIT": "10"}

// faultCases lists every endpoint, and variants of it that make other
// DynamoDB calls. SECURITY.md's fault matrix is this table.
var faultCases = []faultCase{
	{
		name:   "sign in",
		call:   func(fx *fixture) call { return post("/v4/authentication", signInForm(fx.user, fx.pw)) },
		calls:  []string{txGet, txWrite},
		status: 200,
		check:  checkSignIn,
	},
	{
		name: "sign in after failures (the write also clears the user's counter)",
		setup: func(t *testing.T, h *harness) *fixture {
			fx := baseFixture(t, h)
			fail(t, h, fx.user, 2)
			return fx
		},
		call:   func(fx *fixture) call { return post("/v4/authentication", signInForm(fx.user, fx.pw)) },
		calls:  []string{txGet, txWrite},
		status: 200,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			checkSignIn(t, h, fx, o)
			// The counter is cleared with the session, or not at all.
			wantDelta(t, h, fx, "failures", -2*b2i(o.wrote(txWrite)))
		},
	},
	{
		name: "sign in with an access token in the header (the global check)",
		call: func(fx *fixture) call {
			return post("/v4/authentication", signInForm(fx.user, fx.pw)).auth(byToken(fx.s.token))
		},
		calls:  []string{getItem, txGet, txGet, txWrite},
		status: 200,
		check:  checkSignIn,
	},
	{
		name: "sign in on the browser screen (app flow, script)",
		setup: func(t *testing.T, h *harness) *fixture {
			fx := baseFixture(t, h)
			openSignInScreen(t, h, fx)
			return fx
		},
		call: func(fx *fixture) call {
			return post("/v4/authentication", browserForm(fx, "app")).
				with("Cookie", "mt_data_api_login_magic_token="+fx.magic).with("X-Requested-With", "XMLHttpRequest")
		},
		calls:  []string{txGet, txWrite},
		status: 200,
		check:  checkSignIn,
	},
	{
		name: "sign in on the browser screen (app flow, plain form post)",
		setup: func(t *testing.T, h *harness) *fixture {
			fx := baseFixture(t, h)
			openSignInScreen(t, h, fx)
			return fx
		},
		call: func(fx *fixture) call {
			return post("/v4/authentication", browserForm(fx, "app")).
				with("Cookie", "mt_data_api_login_magic_token="+fx.magic).with("Accept", "text/html")
		},
		calls:  []string{txGet, txWrite},
		status: http.StatusSeeOther,
		check:  checkSignIn,
	},
	{
		name: "sign in with redirect_type=blog (one-time token)",
		call: func(fx *fixture) call {
			form := signInForm(fx.user, fx.pw)
			form.Set("redirect_type", "blog")
			return post("/v4/authentication", form)
		},
		calls:  []string{txGet, putItem},
		status: 200,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			// A one-time token exists only if its write was applied: an
			// orphan nobody holds, gone after 5 minutes.
			wantDelta(t, h, fx, "oneTimeToken", b2i(o.wrote(putItem)))
			wantDelta(t, h, fx, "session", 0)
		},
	},
	{
		name: "sign in with redirect_type=blog after failures",
		setup: func(t *testing.T, h *harness) *fixture {
			fx := baseFixture(t, h)
			fail(t, h, fx.user, 2)
			return fx
		},
		call: func(fx *fixture) call {
			form := signInForm(fx.user, fx.pw)
			form.Set("redirect_type", "blog")
			return post("/v4/authentication", form)
		},
		calls:  []string{txGet, txWrite},
		status: 200,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			// The token is stored and the user's counter cleared by one
			// transaction: both or neither.
			wantDelta(t, h, fx, "oneTimeToken", b2i(o.wrote(txWrite)))
			wantDelta(t, h, fx, "failures", -2*b2i(o.wrote(txWrite)))
		},
	},
	{
		name: "refused sign-in (wrong password: both counters counted)",
		env:  lockoutOn,
		call: func(fx *fixture) call {
			return post("/v4/authentication", signInForm(fx.user, "wrong"))
		},
		calls:        []string{txGet, update, update},
		parallelFrom: 1,
		status:       401,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			// A failure is never silently lost: when a count could not be
			// written, the answer is 503 (checked by the runner), not 401.
			want := 0
			if o.op == update {
				want = 1 + b2i(o.applied) // the other counter, and this one if applied
			}
			wantDelta(t, h, fx, "failures", want)
			wantDelta(t, h, fx, "session", 0)
		},
	},
	{
		name: "refused sign-in of a locked-out user (read only)",
		env:  lockoutOn,
		setup: func(t *testing.T, h *harness) *fixture {
			fx := baseFixture(t, h)
			fail(t, h, fx.user, 6)
			return fx
		},
		call:   func(fx *fixture) call { return post("/v4/authentication", signInForm(fx.user, fx.pw)) },
		calls:  []string{txGet},
		status: 401,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			wantDelta(t, h, fx, "failures", 0)
			wantDelta(t, h, fx, "session", 0)
		},
	},
	{
		name:   "new token by session id",
		call:   func(fx *fixture) call { return post("/v4/token", nil).auth(bySession(fx.s.id)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		check:  checkMint,
	},
	{
		name:   "new token by access token",
		call:   func(fx *fixture) call { return post("/v4/token", nil).auth(byToken(fx.target)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		check:  checkMint,
	},
	{
		name: "new token by the browser's session cookie",
		setup: func(t *testing.T, h *harness) *fixture {
			fx := baseFixture(t, h)
			form := signInForm(fx.user, fx.pw)
			form.Set("clientId", "app")
			fx.s = h.signInWith(t, post("/v4/authentication", form))
			fx.tokens = []string{fx.s.token}
			return fx
		},
		call: func(fx *fixture) call {
			return post("/v4/token", url.Values{"clientId": {"app"}}).
				with("Cookie", "mt_data_api_user_app="+fx.user+"::"+fx.s.id+"::0")
		},
		calls:  []string{getItem, txWrite},
		status: 200,
		check:  checkMint,
	},
	{
		name:   "new token by session id, signed out meanwhile",
		call:   func(fx *fixture) call { return post("/v4/token", nil).auth(bySession(fx.s.id)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		during: signOutDuring,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			// Whatever the mint did, it cannot outlive the sign-out.
			wantSession(t, h, fx, false)
			wantDelta(t, h, fx, "token", 0)
		},
	},
	{
		name:   "new token, unknown access token",
		call:   func(fx *fixture) call { return post("/v4/token", nil).auth(byToken(strings.Repeat("0", 40))) },
		calls:  []string{getItem},
		status: 401,
		check:  checkUnchanged,
	},
	{
		name: "exchange a one-time token",
		setup: func(t *testing.T, h *harness) *fixture {
			fx := baseFixture(t, h)
			form := signInForm(fx.user, fx.pw)
			form.Set("redirect_type", "blog")
			a := h.do(t, post("/v4/authentication", form))
			wantStatus(t, a, 200)
			fx.ott = a.str("oneTimeToken")
			return fx
		},
		call:   func(fx *fixture) call { return post("/v4/token", nil).auth(byOneTime(fx.ott)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			// A session exists only if its write was applied (an orphan).
			wantDelta(t, h, fx, "session", b2i(o.wrote(txWrite)))
			// The one-time token is spent by the session's own
			// transaction, so exactly when that was applied: a 503 that
			// changed nothing leaves it for the client to try again.
			spent := o.wrote(txWrite)
			left := h.tally(t)["oneTimeToken"] - fx.before["oneTimeToken"]
			if spent && left != -1 {
				t.Errorf("one-time token items changed by %d, want -1", left)
			}
			if !spent && left != 0 {
				t.Errorf("BUG: after a 503 at %s (not applied), the one-time token is spent (items changed by %d) and no session was made: "+
					"the exchange was half done and the client cannot try again", o.op, left)
			}
			retry := h.do(t, post("/v4/token", nil).auth(byOneTime(fx.ott)))
			if spent || left != 0 {
				wantError(t, retry, 401, "Unauthorized")
			} else {
				wantStatus(t, retry, 200)
			}
		},
	},
	{
		name:   "revoke a token",
		call:   func(fx *fixture) call { return del("/v4/token").auth(byToken(fx.target)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			if got, want := h.tokenWorks(t, fx.target), !o.wrote(txWrite); got != want {
				t.Errorf("revoked token works = %v, want %v", got, want)
			}
			fx.tokens = slices.DeleteFunc(slices.Clone(fx.tokens), func(s string) bool { return s == fx.target })
			wantSession(t, h, fx, true)
		},
	},
	{
		name: "revoke a token by __method",
		call: func(fx *fixture) call {
			return post("/v4/token", url.Values{"__method": {"DELETE"}}).auth(byToken(fx.target))
		},
		calls:  []string{getItem, txWrite},
		status: 200,
		check: func(t *testing.T, h *harness, fx *fixture, o outcome) {
			if got, want := h.tokenWorks(t, fx.target), !o.wrote(txWrite); got != want {
				t.Errorf("revoked token works = %v, want %v", got, want)
			}
		},
	},
	{
		name:   "sign out by session id",
		call:   func(fx *fixture) call { return del("/v4/authentication").auth(bySession(fx.s.id)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		check:  checkSignOut,
	},
	{
		name:   "sign out by access token",
		call:   func(fx *fixture) call { return del("/v4/authentication").auth(byToken(fx.target)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		check:  checkSignOut,
	},
	{
		name:   "sign out, a token minted meanwhile",
		call:   func(fx *fixture) call { return del("/v4/authentication").auth(bySession(fx.s.id)) },
		calls:  []string{getItem, txWrite},
		status: 200,
		during: mintDuring,
		check:  checkSignOut,
	},
	{
		name: "sign-in screen (reads the address's lockout)",
		env:  lockoutOn,
		call: func(fx *fixture) call {
			return get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + apiHost + "/"}})
		},
		calls:  []string{txGet},
		status: 200,
		check:  checkUnchanged,
	},
	{
		name: "sign-in screen with an access token in the header",
		env:  lockoutOn,
		call: func(fx *fixture) call {
			return get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + redirectHost + "/"}}).auth(byToken(fx.s.token))
		},
		calls:  []string{getItem, txGet, txGet},
		status: 200,
		check:  checkUnchanged,
	},
}

// TestFaults injects, for every endpoint, each kind of DynamoDB failure
// at each call the endpoint makes, and checks the client gets 503 Service
// Unavailable in the Data API shape and the stored state is one of those
// SECURITY.md lists as possible. The calls are recorded from a run without
// faults and must be the sequence the case names.
func TestFaults(t *testing.T) {
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			setup := tc.setup
			if setup == nil {
				setup = baseFixture
			}
			start := func(t *testing.T) (*harness, *fixture) {
				h := newHarness(t, tc.env)
				fx := setup(t, h)
				fx.before = h.tally(t)
				h.rec.take()
				return h, fx
			}

			// Without a fault: record the calls.
			h, fx := start(t)
			a := h.do(t, tc.call(fx))
			recorded := h.rec.take()
			if a.status != tc.status {
				t.Fatalf("without a fault: got %d %s, want %d", a.status, a.body, tc.status)
			}
			if !slices.Equal(recorded, tc.calls) {
				t.Fatalf("without a fault the request makes DynamoDB calls %v, want %v", recorded, tc.calls)
			}

			for i, op := range recorded {
				for _, kind := range faultKinds {
					t.Run(fmt.Sprintf("%d %s %s", i+1, op, kind.name), func(t *testing.T) {
						h, fx := start(t)
						fl := fault{at: i + 1, err: kind.err, applied: kind.applied}
						if tc.during != nil {
							fl.before = func() { tc.during(t, h, fx) }
						}
						h.faults.arm(fl)
						a := h.do(t, tc.call(fx))
						h.faults.disarm()
						got := h.rec.take()

						wantError(t, a, http.StatusServiceUnavailable, "Service Unavailable")
						if c := a.header.Values("Set-Cookie"); len(c) > 0 {
							t.Errorf("a 503 sets cookies %q", c)
						}
						want := tc.calls[:i+1]
						if tc.parallelFrom > 0 && i >= tc.parallelFrom {
							want = tc.calls
						}
						if !slices.Equal(got, want) {
							t.Errorf("DynamoDB calls %v, want %v: a request stops at its first failed call", got, want)
						}
						o := outcome{op: op, index: i, applied: kind.applied}
						// The concurrent counter updates fail in either order.
						if tc.parallelFrom > 0 && i >= tc.parallelFrom {
							o.op = tc.calls[tc.parallelFrom]
						}
						tc.check(t, h, fx, o)
						// Nothing of another user's is ever touched.
						for _, tok := range []string{fx.bystander.token} {
							if !h.tokenWorks(t, tok) || !h.sessionAlive(t, fx.bystander.id) {
								t.Errorf("the bystander's session was touched")
							}
						}
						// The failure went to the log, and the 503 has no
						// internals: the body is checked exactly above.
						if f := h.logs.events(t, "storage_failure"); len(f) == 0 {
							t.Errorf("no storage_failure event logged")
						}
					})
				}
			}
		})
	}
}

// TestFaultsSuppressResponseCodes: with suppressResponseCodes, a 503 is
// still a 503 in the body.
func TestFaultsSuppressResponseCodes(t *testing.T) {
	h := newHarness(t, nil)
	fx := baseFixture(t, h)
	h.faults.arm(fault{op: txWrite, err: kind500})
	a := h.do(t, post("/v4/token", url.Values{"suppressResponseCodes": {"1"}}).auth(bySession(fx.s.id)))
	h.faults.disarm()
	if a.status != 200 || a.body != errorBody(503, "Service Unavailable") {
		t.Errorf("got %d %s, want 200 %s", a.status, a.body, errorBody(503, "Service Unavailable"))
	}
}

var kind500 = &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected server error"}

// TestFaultEveryOperation fails every call of one operation, for each
// request of a session's life in turn: a request that uses the operation
// answers 503 and leaves the session fully alive; one that does not use
// it answers as usual.
func TestFaultEveryOperation(t *testing.T) {
	requests := []struct {
		name string
		call func(fx *fixture) call
	}{
		{"sign in", func(fx *fixture) call { return post("/v4/authentication", signInForm(fx.user, fx.pw)) }},
		{"sign in, blog", func(fx *fixture) call {
			form := signInForm(fx.user, fx.pw)
			form.Set("redirect_type", "blog")
			return post("/v4/authentication", form)
		}},
		{"refused sign-in", func(fx *fixture) call { return post("/v4/authentication", signInForm(fx.user, "wrong")) }},
		{"sign in, global check", func(fx *fixture) call {
			return post("/v4/authentication", signInForm(fx.user, fx.pw)).auth(byToken(fx.s.token))
		}},
		{"new token by session id", func(fx *fixture) call { return post("/v4/token", nil).auth(bySession(fx.s.id)) }},
		{"new token by access token", func(fx *fixture) call { return post("/v4/token", nil).auth(byToken(fx.s.token)) }},
		{"exchange one-time token", func(fx *fixture) call { return post("/v4/token", nil).auth(byOneTime(fx.ott)) }},
		{"revoke token", func(fx *fixture) call { return del("/v4/token").auth(byToken(fx.target)) }},
		{"sign out by access token", func(fx *fixture) call { return del("/v4/authentication").auth(byToken(fx.target)) }},
		{"sign out by session id", func(fx *fixture) call { return del("/v4/authentication").auth(bySession(fx.s.id)) }},
		{"sign-in screen", func(fx *fixture) call {
			return get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + apiHost + "/"}})
		}},
	}
	for _, op := range []string{getItem, putItem, update, deleteOp, txGet, txWrite} {
		for _, r := range requests {
			t.Run(op+"/"+r.name, func(t *testing.T) {
				h := newHarness(t, lockoutOn)
				fx := baseFixture(t, h)
				form := signInForm(fx.user, fx.pw)
				form.Set("redirect_type", "blog")
				a := h.do(t, post("/v4/authentication", form))
				wantStatus(t, a, 200)
				fx.ott = a.str("oneTimeToken")
				h.rec.take()
				h.faults.arm(fault{op: op, err: kind500})
				a = h.do(t, r.call(fx))
				h.faults.disarm()
				if !slices.Contains(h.rec.take(), op) {
					if a.status >= 500 {
						t.Errorf("%d %s without a failed call", a.status, a.body)
					}
					return
				}
				wantError(t, a, 503, "Service Unavailable")
				wantSession(t, h, fx, true)
			})
		}
	}
}

// TestDynamoDBContextEndsBeforeLambdaDeadline: every DynamoDB call of a
// request gets a context that ends apigw.DeadlineMargin before the
// invocation's deadline, so a hanging call is abandoned in time to answer
// 503 instead of Lambda killing the function mid-request.
func TestDynamoDBContextEndsBeforeLambdaDeadline(t *testing.T) {
	t.Run("every call's deadline", func(t *testing.T) {
		h := newHarness(t, nil)
		fx := baseFixture(t, h)
		deadline := time.Now().Add(time.Minute)
		var mu sync.Mutex
		var seen []time.Time
		var without atomic.Int32
		h.faults.mu.Lock()
		h.faults.onCall = func(ctx context.Context, op string) {
			d, ok := ctx.Deadline()
			if !ok {
				without.Add(1)
				return
			}
			mu.Lock()
			seen = append(seen, d)
			mu.Unlock()
		}
		h.faults.mu.Unlock()
		ctx, cancel := context.WithDeadline(t.Context(), deadline)
		defer cancel()
		for _, c := range []call{
			post("/v4/authentication", signInForm(fx.user, fx.pw)).auth(byToken(fx.s.token)),
			post("/v4/authentication", signInForm(fx.user, "wrong")),
			post("/v4/token", nil).auth(bySession(fx.s.id)),
			del("/v4/token").auth(byToken(fx.target)),
			del("/v4/authentication").auth(bySession(fx.s.id)),
			get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + apiHost + "/"}}),
		} {
			if a := h.doCtx(ctx, t, c); a.status >= 500 {
				t.Fatalf("%s %s: %d %s", c.method, c.path, a.status, a.body)
			}
		}
		if n := without.Load(); n > 0 {
			t.Errorf("%d DynamoDB calls had no deadline", n)
		}
		if len(seen) < 10 {
			t.Fatalf("saw %d DynamoDB calls, want every request's", len(seen))
		}
		want := deadline.Add(-apigw.DeadlineMargin)
		for _, d := range seen {
			if !d.Equal(want) {
				t.Errorf("DynamoDB call deadline %v, want the invocation's minus %v (%v)", d, apigw.DeadlineMargin, want)
			}
		}
	})

	t.Run("a hanging call", func(t *testing.T) {
		h := newHarness(t, nil)
		fx := baseFixture(t, h)
		outer, cancel := context.WithTimeout(t.Context(), apigw.DeadlineMargin+time.Second)
		defer cancel()
		var innerErr, outerErr error
		h.faults.arm(fault{op: txWrite, hang: true})
		h.faults.mu.Lock()
		h.faults.onCall = func(ctx context.Context, op string) {
			if op != txWrite {
				return
			}
			<-ctx.Done()
			// The call's context has ended; the invocation's has not.
			innerErr, outerErr = ctx.Err(), outer.Err()
		}
		h.faults.mu.Unlock()
		fx.before = h.tally(t)
		a := h.doCtx(outer, t, post("/v4/token", nil).auth(bySession(fx.s.id)))
		wantError(t, a, 503, "Service Unavailable")
		if !errors.Is(innerErr, context.DeadlineExceeded) {
			t.Errorf("the DynamoDB call's context ended with %v, want DeadlineExceeded", innerErr)
		}
		if outerErr != nil {
			t.Errorf("the invocation's context had already ended (%v) when the DynamoDB call's did", outerErr)
		}
		checkMint(t, h, fx, outcome{op: txWrite})
	})
}

// TestClientRetriesBounded: the client dynamo.NewClient makes tries a
// failing call a bounded number of times, each attempt under a timeout,
// so a DynamoDB outage costs a request a known, short time.
func TestClientRetriesBounded(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"injected"}`)
	}))
	defer srv.Close()
	dynamotest.SetLocalEnv(t, srv.URL)
	t.Setenv("AWS_MAX_ATTEMPTS", "")
	client, err := dynamo.NewClient(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	opts := client.Options()
	if opts.Retryer == nil {
		t.Fatal("the client has no retryer")
	}
	attempts := opts.Retryer.MaxAttempts()
	if attempts < 1 || attempts > 5 {
		t.Errorf("Retryer.MaxAttempts() = %d, want 1..5", attempts)
	}
	timeout, ok := opts.HTTPClient.(interface{ GetTimeout() time.Duration })
	if !ok {
		t.Fatalf("the client's HTTP client %T does not say its timeout", opts.HTTPClient)
	}
	// Every attempt of one call together stays well inside the 10 s
	// function timeout of template.yaml.
	if per := timeout.GetTimeout(); per <= 0 || time.Duration(attempts)*per > 8*time.Second {
		t.Errorf("HTTP timeout %v per attempt × %d attempts: want a bound under 8 s", per, attempts)
	}

	_, err = client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String("mtauth"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}},
	})
	var throttled *types.ProvisionedThroughputExceededException
	if !errors.As(err, &throttled) {
		t.Errorf("GetItem error %v, want the throttling", err)
	}
	if got := hits.Load(); int(got) != attempts {
		t.Errorf("the server saw %d attempts, want MaxAttempts = %d", got, attempts)
	}
}

// conflict is DynamoDB's answer to a transaction that raced another
// transaction on one of its items: nothing was written.
func conflict() error {
	return &types.TransactionCanceledException{
		Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]"),
		CancellationReasons: []types.CancellationReason{
			{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")},
		},
	}
}

// TestTransactionConflicts: a transaction that lost a race is tried again
// (its conditions are evaluated afresh), a bounded number of times; when
// the conflicts do not stop, the answer is 503 and nothing was written.
func TestTransactionConflicts(t *testing.T) {
	for _, name := range []string{"sign in", "new token by session id", "revoke a token", "sign out by session id"} {
		i := slices.IndexFunc(faultCases, func(c faultCase) bool { return c.name == name })
		tc := faultCases[i]
		t.Run(name, func(t *testing.T) {
			t.Run("once", func(t *testing.T) {
				h := newHarness(t, tc.env)
				fx := baseFixture(t, h)
				h.rec.take()
				h.faults.arm(fault{at: len(tc.calls), err: conflict()})
				a := h.do(t, tc.call(fx))
				h.faults.disarm()
				if a.status != tc.status {
					t.Errorf("after one conflict: %d %s, want %d", a.status, a.body, tc.status)
				}
				if got, want := h.rec.take(), append(slices.Clone(tc.calls), txWrite); !slices.Equal(got, want) {
					t.Errorf("calls %v, want %v", got, want)
				}
			})
			t.Run("always", func(t *testing.T) {
				h := newHarness(t, tc.env)
				fx := baseFixture(t, h)
				fx.before = h.tally(t)
				h.rec.take()
				h.faults.arm(fault{op: txWrite, err: conflict()})
				a := h.do(t, tc.call(fx))
				h.faults.disarm()
				wantError(t, a, 503, "Service Unavailable")
				writes := 0
				for _, op := range h.rec.take() {
					writes += b2i(op == txWrite)
				}
				if writes < 2 || writes > 10 {
					t.Errorf("the transaction was tried %d times, want a few and a bound", writes)
				}
				tc.check(t, h, fx, outcome{op: txWrite, index: len(tc.calls) - 1})
			})
		})
	}
}

// TestReadConflicts: DynamoDB cancels a transactional read that meets a
// write in progress on one of its items; the store reads again.
func TestReadConflicts(t *testing.T) {
	i := slices.IndexFunc(faultCases, func(c faultCase) bool { return c.name == "sign in" })
	tc := faultCases[i]
	if tc.calls[0] != txGet {
		t.Fatalf("sign-in starts with %s, want %s", tc.calls[0], txGet)
	}
	h := newHarness(t, tc.env)
	fx := baseFixture(t, h)
	h.rec.take()
	h.faults.arm(fault{at: 1, err: conflict()})
	a := h.do(t, tc.call(fx))
	h.faults.disarm()
	if a.status != tc.status {
		t.Errorf("after one read conflict: %d %s, want %d", a.status, a.body, tc.status)
	}
	if got, want := h.rec.take(), append([]string{txGet}, tc.calls...); !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
}
