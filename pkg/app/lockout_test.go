package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
)

// Brute-force lockout, section 8 of the contract, on every version.

// signInPassword is melody's sign-in password (v1, v2); her web services
// password (v3 and later) is generated.
const signInPassword = "Nelson-1"

// addLockoutUser creates melody with both passwords and returns the web
// services one.
func addLockoutUser(t *testing.T, h *harness, username string) string {
	t.Helper()
	ws, err := h.probe.Service.AddUser(t.Context(), auth.NewUser{
		Username: username, Permissions: []string{auth.PermissionSignInDataAPI}, Password: signInPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// addGuessUsers creates users guess0..guess{n-1}, so that failures naming
// them cost no slow hashing (an unknown username costs an argon2 check).
func addGuessUsers(t *testing.T, h *harness, n int) {
	t.Helper()
	for i := range n {
		h.addUser(t, fmt.Sprintf("guess%d", i))
	}
}

// signInAt is a v{version} sign-in from ip.
func signInAt(version int, user, pw, ip string) call {
	return post(fmt.Sprintf("/v%d/authentication", version), signInForm(user, pw)).from(ip)
}

// sameAnswer checks two answers cannot be told apart: status, body and
// every header.
func sameAnswer(t *testing.T, what string, got, want answer) {
	t.Helper()
	if got.status != want.status || got.body != want.body {
		t.Errorf("%s: got %d %s, want %d %s", what, got.status, got.body, want.status, want.body)
	}
	if fmt.Sprint(got.header) != fmt.Sprint(want.header) {
		t.Errorf("%s: headers %v, want %v", what, got.header, want.header)
	}
}

// lockedOut returns the locked_out events logged for key.
func lockedOut(t *testing.T, h *harness, key string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range h.logs.events(t, "locked_out") {
		if e["key"] == key {
			out = append(out, e)
		}
	}
	return out
}

func TestLockoutSettings(t *testing.T) {
	defaults, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Lockout{UserLimit: 6, UserInterval: 1800 * time.Second, IPLimit: 10, IPInterval: 1800 * time.Second}
	if fmt.Sprint(defaults.Lockout) != fmt.Sprint(want) {
		t.Errorf("default lockout %+v, want %+v", defaults.Lockout, want)
	}
	env := map[string]string{
		"MTAUTH_USER_LOCKOUT_LIMIT": "3", "MTAUTH_USER_LOCKOUT_INTERVAL": "60",
		"MTAUTH_IP_LOCKOUT_LIMIT": "0", "MTAUTH_IP_LOCKOUT_INTERVAL": "120",
		"MTAUTH_LOCKOUT_IP_WHITELIST": "192.168., 10.0.0.0/8",
	}
	s, err := config.FromEnv(func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	want = auth.Lockout{UserLimit: 3, UserInterval: time.Minute, IPLimit: 0, IPInterval: 2 * time.Minute, IPWhitelist: []string{"192.168.", "10.0.0.0/8"}}
	if fmt.Sprint(s.Lockout) != fmt.Sprint(want) {
		t.Errorf("lockout %+v, want %+v", s.Lockout, want)
	}
	for _, bad := range []map[string]string{
		{"MTAUTH_USER_LOCKOUT_LIMIT": "-1"},
		{"MTAUTH_IP_LOCKOUT_LIMIT": "many"},
		{"MTAUTH_USER_LOCKOUT_INTERVAL": "0"},
		{"MTAUTH_LOCKOUT_IP_WHITELIST": "10.0.0.0/33"},
	} {
		if _, err := config.FromEnv(func(name string) string { return bad[name] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestUserLockoutEveryVersion: 6 failures of one user within 1800 s lock
// it for 1800 s on every version, v1 and v2 (sign-in password) as much as
// v3..v7 (web services password).
func TestUserLockoutEveryVersion(t *testing.T) {
	for version := 1; version <= 7; version++ {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			h := newHarness(t, nil)
			pw := addLockoutUser(t, h, "melody")
			if version <= 2 {
				pw = signInPassword
			}
			// A session from before the lockout.
			before := h.signInWith(t, signInAt(version, "melody", pw, "198.51.100.200"))

			// 6 failures within 1800 s, each from its own address.
			var lastWrong answer
			for i := range 6 {
				if i > 0 {
					h.clock.Advance(5 * time.Minute)
				}
				lastWrong = h.do(t, signInAt(version, "melody", "wrong", fmt.Sprintf("198.51.100.%d", i+1)))
				wantError(t, lastWrong, 401, "Invalid login")
			}
			lockedAt := h.clock.Now()

			// The right password now fails exactly as a wrong one does, and
			// is refused after one read: no counter write, no hashing.
			h.rec.take()
			right := h.do(t, signInAt(version, "melody", pw, "198.51.100.7"))
			sameAnswer(t, "right password while locked", right, lastWrong)
			if calls := h.rec.take(); !slices.Equal(calls, []string{txGet}) {
				t.Errorf("a locked-out sign-in makes DynamoDB calls %v, want only %v", calls, []string{txGet})
			}
			wrong := h.do(t, signInAt(version, "melody", "wrong", "198.51.100.8"))
			sameAnswer(t, "wrong password while locked", wrong, lastWrong)

			// Her existing session and tokens keep working.
			token := h.mintOK(t, bySession(before.id))
			h.mintOK(t, byToken(before.token))
			if !h.tokenWorks(t, token) || !h.tokenWorks(t, before.token) {
				t.Errorf("a locked-out user's tokens stopped working")
			}

			events := lockedOut(t, h, "user:melody")
			if len(events) != 1 || events[0]["subject"] != "user" {
				t.Errorf("locked_out events %v, want one with subject user and key user:melody", events)
			}

			// Locked for 1800 s from the last failure, then free.
			h.clock.Advance(lockedAt.Add(1799 * time.Second).Sub(h.clock.Now()))
			sameAnswer(t, "1799 s later", h.do(t, signInAt(version, "melody", pw, "198.51.100.9")), lastWrong)
			h.clock.Advance(time.Second)
			h.signInWith(t, signInAt(version, "melody", pw, "198.51.100.10"))
		})
	}
}

// TestUserLockoutWindow: failures count within 1800 s of the first; older
// ones are forgotten.
func TestUserLockoutWindow(t *testing.T) {
	h := newHarness(t, nil)
	pw := h.addUser(t, "melody")
	for i := range 5 {
		wantError(t, h.do(t, signInAt(4, "melody", "wrong", fmt.Sprintf("198.51.100.%d", i+1))), 401, "Invalid login")
	}
	h.clock.Advance(1800 * time.Second)
	// The window of the first 5 has closed: this sixth failure starts a
	// new one instead of locking.
	wantError(t, h.do(t, signInAt(4, "melody", "wrong", "198.51.100.6")), 401, "Invalid login")
	h.signInWith(t, signInAt(4, "melody", pw, "198.51.100.7"))
	if e := lockedOut(t, h, "user:melody"); len(e) != 0 {
		t.Errorf("locked_out logged: %v", e)
	}
}

// TestUnknownUserLockout: a username that does not exist locks the same
// way, with the same DynamoDB calls and the same answers, so lockouts do
// not reveal which usernames exist.
func TestUnknownUserLockout(t *testing.T) {
	h := newHarness(t, nil)
	h.addUser(t, "melody")
	var known, unknown []answer
	var knownCalls, unknownCalls [][]string
	for i := range 7 {
		h.rec.take()
		known = append(known, h.do(t, signInAt(4, "melody", "wrong", fmt.Sprintf("198.51.100.%d", i+1))))
		knownCalls = append(knownCalls, h.rec.take())
		unknown = append(unknown, h.do(t, signInAt(4, "ghost", "wrong", fmt.Sprintf("198.51.101.%d", i+1))))
		unknownCalls = append(unknownCalls, h.rec.take())
	}
	for i := range known {
		sameAnswer(t, fmt.Sprintf("failure %d of an unknown user", i+1), unknown[i], known[i])
		if !slices.Equal(unknownCalls[i], knownCalls[i]) {
			t.Errorf("failure %d: DynamoDB calls %v for an unknown user, %v for a known one", i+1, unknownCalls[i], knownCalls[i])
		}
	}
	if !slices.Equal(knownCalls[6], []string{txGet}) {
		t.Errorf("the 7th failure made calls %v, want only the read (locked)", knownCalls[6])
	}
	if e := lockedOut(t, h, "user:ghost"); len(e) != 1 || e[0]["subject"] != "user" {
		t.Errorf("locked_out events for ghost: %v", e)
	}
}

// TestIPLockout: 10 failures from one address lock it for every username;
// the address is API Gateway's sourceIp, never X-Forwarded-For.
func TestIPLockout(t *testing.T) {
	h := newHarness(t, nil)
	pw := addLockoutUser(t, h, "melody")
	const attacker, other = "203.0.113.66", "203.0.113.77"
	var lastWrong answer
	for i := range 10 {
		h.clock.Advance(time.Minute)
		// A different username each time, known or not; the forwarded
		// address changes each time too and must not matter.
		lastWrong = h.do(t, signInAt(4, fmt.Sprintf("guess%d", i), "wrong", attacker).with("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1)))
		wantError(t, lastWrong, 401, "Invalid login")
	}
	lockedAt := h.clock.Now()

	h.rec.take()
	right := h.do(t, signInAt(4, "melody", pw, attacker))
	sameAnswer(t, "right password from a locked address", right, lastWrong)
	if calls := h.rec.take(); !slices.Equal(calls, []string{txGet}) {
		t.Errorf("a locked-out sign-in makes DynamoDB calls %v, want only %v", calls, []string{txGet})
	}
	// X-Forwarded-For does not get the attacker out...
	sameAnswer(t, "with a forwarded address", h.do(t, signInAt(4, "melody", pw, attacker).with("X-Forwarded-For", other)), lastWrong)
	// ...nor another client in.
	h.signInWith(t, signInAt(4, "melody", pw, other).with("X-Forwarded-For", attacker))
	for v := 1; v <= 7; v++ {
		right := pw
		if v <= 2 {
			right = signInPassword
		}
		sameAnswer(t, fmt.Sprintf("v%d from a locked address", v), h.do(t, signInAt(v, "melody", right, attacker)), lastWrong)
	}

	// The sign-in screen says "Invalid request." instead of a form.
	screen := get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + apiHost + "/"}})
	a := h.do(t, screen.from(attacker))
	if !strings.Contains(a.body, "Invalid request.") || strings.Contains(a.body, "<form") || a.status == http.StatusOK {
		t.Errorf("sign-in screen for a locked address: %d %s", a.status, a.body)
	}
	if _, ok := a.cookie("mt_data_api_login_magic_token"); ok {
		t.Errorf("a locked address got a magic token")
	}
	if b := h.do(t, screen.from(other).with("X-Forwarded-For", attacker)); b.status != http.StatusOK || !strings.Contains(b.body, "<form") {
		t.Errorf("sign-in screen for another address: %d", b.status)
	}

	if e := lockedOut(t, h, "ip:"+attacker); len(e) != 1 || e[0]["subject"] != "ip" {
		t.Errorf("locked_out events for the address: %v", e)
	}

	h.clock.Advance(lockedAt.Add(1799 * time.Second).Sub(h.clock.Now()))
	wantError(t, h.do(t, signInAt(4, "melody", pw, attacker)), 401, "Invalid login")
	h.clock.Advance(time.Second)
	h.signInWith(t, signInAt(4, "melody", pw, attacker))
}

// TestLockoutWhitelist: addresses matching a whitelisted prefix or CIDR
// block are never locked out (their users still are).
func TestLockoutWhitelist(t *testing.T) {
	h := newHarness(t, map[string]string{"MTAUTH_LOCKOUT_IP_WHITELIST": "192.168.,10.0.0.0/8"})
	pw := h.addUser(t, "melody")
	addGuessUsers(t, h, 12)
	for _, tt := range []struct {
		ip     string
		exempt bool
	}{
		{"192.168.1.5", true},
		{"10.200.3.4", true},
		{"11.0.0.1", false},
		{"192.169.1.5", false},
	} {
		for i := range 12 {
			wantError(t, h.do(t, signInAt(4, fmt.Sprintf("guess%d", i), "wrong", tt.ip)), 401, "Invalid login")
		}
		a := h.do(t, signInAt(4, "melody", pw, tt.ip))
		if got := a.status == http.StatusOK; got != tt.exempt {
			t.Errorf("%s after 12 failures: %d %s, exempt = %v", tt.ip, a.status, a.body, tt.exempt)
		}
	}
	// A user is still locked out from a whitelisted address.
	for range 6 {
		wantError(t, h.do(t, signInAt(4, "melody", "wrong", "192.168.1.6")), 401, "Invalid login")
	}
	wantError(t, h.do(t, signInAt(4, "melody", pw, "192.168.1.6")), 401, "Invalid login")
}

// TestLockoutDisabled: a limit of 0 turns that lockout off, and then
// nothing is counted for it.
func TestLockoutDisabled(t *testing.T) {
	t.Run("user", func(t *testing.T) {
		h := newHarness(t, map[string]string{"MTAUTH_USER_LOCKOUT_LIMIT": "0"})
		pw := h.addUser(t, "melody")
		for i := range 20 {
			wantError(t, h.do(t, signInAt(4, "melody", "wrong", fmt.Sprintf("198.51.100.%d", i+1))), 401, "Invalid login")
		}
		h.signInWith(t, signInAt(4, "melody", pw, "198.51.100.99"))
	})
	t.Run("ip", func(t *testing.T) {
		h := newHarness(t, map[string]string{"MTAUTH_IP_LOCKOUT_LIMIT": "0"})
		pw := h.addUser(t, "melody")
		addGuessUsers(t, h, 20)
		for i := range 20 {
			wantError(t, h.do(t, signInAt(4, fmt.Sprintf("guess%d", i), "wrong", defaultIP)), 401, "Invalid login")
		}
		h.signInWith(t, signInAt(4, "melody", pw, defaultIP))
		h.rec.take()
		wantStatus(t, h.do(t, get("/v4/authorization", url.Values{"clientId": {"app"}, "redirectUrl": {"https://" + apiHost + "/"}})), 200)
		if calls := h.rec.take(); len(calls) != 0 {
			t.Errorf("the sign-in screen reads %v with the address lockout off", calls)
		}
	})
	t.Run("both", func(t *testing.T) {
		h := newHarness(t, map[string]string{"MTAUTH_USER_LOCKOUT_LIMIT": "0", "MTAUTH_IP_LOCKOUT_LIMIT": "0"})
		h.addUser(t, "melody")
		h.rec.take()
		wantError(t, h.do(t, signInAt(4, "melody", "wrong", defaultIP)), 401, "Invalid login")
		if calls := h.rec.take(); !slices.Equal(calls, []string{txGet}) {
			t.Errorf("a refused sign-in with lockout off makes calls %v, want %v", calls, []string{txGet})
		}
		if n := h.tally(t)["counter"]; n != 0 {
			t.Errorf("%d counters stored with lockout off", n)
		}
	})
}

// TestLockoutCustomSettings: the limits and intervals come from
// config.Settings.Lockout.
func TestLockoutCustomSettings(t *testing.T) {
	h := newHarness(t, map[string]string{
		"MTAUTH_USER_LOCKOUT_LIMIT": "3", "MTAUTH_USER_LOCKOUT_INTERVAL": "60",
		"MTAUTH_IP_LOCKOUT_LIMIT": "4", "MTAUTH_IP_LOCKOUT_INTERVAL": "120",
	})
	pw := h.addUser(t, "melody")
	addGuessUsers(t, h, 4)
	for i := range 3 {
		wantError(t, h.do(t, signInAt(4, "melody", "wrong", fmt.Sprintf("198.51.100.%d", i+1))), 401, "Invalid login")
	}
	wantError(t, h.do(t, signInAt(4, "melody", pw, "198.51.100.9")), 401, "Invalid login")
	h.clock.Advance(60 * time.Second)
	h.signInWith(t, signInAt(4, "melody", pw, "198.51.100.9"))

	for i := range 4 {
		wantError(t, h.do(t, signInAt(4, fmt.Sprintf("guess%d", i), "wrong", defaultIP)), 401, "Invalid login")
	}
	wantError(t, h.do(t, signInAt(4, "melody", pw, defaultIP)), 401, "Invalid login")
	h.clock.Advance(119 * time.Second)
	wantError(t, h.do(t, signInAt(4, "melody", pw, defaultIP)), 401, "Invalid login")
	h.clock.Advance(time.Second)
	h.signInWith(t, signInAt(4, "melody", pw, defaultIP))
}

// TestSuccessClearsUserCounter: a successful sign-in forgets the user's
// earlier failures, in the same write that creates the session.
func TestSuccessClearsUserCounter(t *testing.T) {
	h := newHarness(t, nil)
	pw := h.addUser(t, "melody")
	ip := 0
	failures := func(n int) {
		for range n {
			ip++
			wantError(t, h.do(t, signInAt(4, "melody", "wrong", fmt.Sprintf("198.51.100.%d", ip))), 401, "Invalid login")
		}
	}
	failures(5)
	h.rec.take()
	h.signInWith(t, signInAt(4, "melody", pw, "198.51.100.200"))
	if calls := h.rec.take(); !slices.Equal(calls, []string{txGet, txWrite}) {
		t.Errorf("sign-in after failures makes calls %v, want %v", calls, []string{txGet, txWrite})
	}
	failures(5)
	h.signInWith(t, signInAt(4, "melody", pw, "198.51.100.201"))
}

// TestUnlock: `mtauth user unlock` and `mtauth ip unlock` end a lockout.
func TestUnlock(t *testing.T) {
	h := newHarness(t, nil)
	pw := h.addUser(t, "melody")
	addGuessUsers(t, h, 10)
	for i := range 6 {
		wantError(t, h.do(t, signInAt(4, "melody", "wrong", fmt.Sprintf("198.51.100.%d", i+1))), 401, "Invalid login")
	}
	wantError(t, h.do(t, signInAt(4, "melody", pw, "198.51.100.50")), 401, "Invalid login")
	if err := h.app.Service.UnlockUser(t.Context(), "melody"); err != nil {
		t.Fatal(err)
	}
	h.signInWith(t, signInAt(4, "melody", pw, "198.51.100.50"))

	const attacker = "203.0.113.66"
	for i := range 10 {
		wantError(t, h.do(t, signInAt(4, fmt.Sprintf("guess%d", i), "wrong", attacker)), 401, "Invalid login")
	}
	wantError(t, h.do(t, signInAt(4, "melody", pw, attacker)), 401, "Invalid login")
	if err := h.app.Service.UnlockIP(t.Context(), attacker); err != nil {
		t.Fatal(err)
	}
	h.signInWith(t, signInAt(4, "melody", pw, attacker))
}

// nonces are the per-response random values of the sign-in page.
var nonces = regexp.MustCompile(`nonce-[0-9a-f]+|nonce="[0-9a-f]+"`)

// TestLockoutOnSignInScreen: on the browser's plain form post, a locked
// user sees the same page as after a wrong password.
func TestLockoutOnSignInScreen(t *testing.T) {
	h := newHarness(t, nil)
	fx := &fixture{user: "melody", pw: h.addUser(t, "melody")}
	openSignInScreen(t, h, fx)
	formPost := func(pw string) call {
		form := browserForm(fx, "app")
		form.Set("password", pw)
		return post("/v4/authentication", form).with("Cookie", "mt_data_api_login_magic_token="+fx.magic).with("Accept", "text/html")
	}
	var wrong answer
	for range 6 {
		wrong = h.do(t, formPost("wrong"))
		if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "Invalid login.") {
			t.Fatalf("wrong password on the screen: %d %s", wrong.status, wrong.body)
		}
	}
	locked := h.do(t, formPost(fx.pw))
	normalize := func(a answer) answer {
		a.body = nonces.ReplaceAllString(a.body, "nonce")
		a.header = a.header.Clone()
		a.header.Set("Content-Security-Policy", nonces.ReplaceAllString(a.header.Get("Content-Security-Policy"), "nonce"))
		return a
	}
	sameAnswer(t, "right password on the screen while locked", normalize(locked), normalize(wrong))
}

// allocated returns the bytes f allocates. An argon2id check (19 MiB)
// allocates its whole memory, so this counts password-hashing work
// without looking at a clock.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const (
	argonMemory = 19 << 20
	mib         = 1 << 20
)

// TestLockoutBeforeHashing: a locked-out sign-in is refused before any
// password is hashed, so guessing against a lockout burns no CPU.
func TestLockoutBeforeHashing(t *testing.T) {
	h := newHarness(t, nil)
	addLockoutUser(t, h, "melody")
	var counted uint64
	for i := range 6 {
		counted = allocated(func() {
			wantError(t, h.do(t, signInAt(1, "melody", "wrong", fmt.Sprintf("198.51.100.%d", i+1))), 401, "Invalid login")
		})
	}
	if counted < argonMemory {
		t.Fatalf("a v1 sign-in allocated %d MiB, less than one argon2id check: the measure does not work", counted/mib)
	}
	for _, user := range []string{"melody", "ghost"} {
		if user == "ghost" {
			for i := range 6 {
				h.do(t, signInAt(1, "ghost", "wrong", fmt.Sprintf("198.51.101.%d", i+1)))
			}
		}
		locked := allocated(func() {
			wantError(t, h.do(t, signInAt(1, user, signInPassword, "198.51.100.99")), 401, "Invalid login")
		})
		if locked > 4*mib {
			t.Errorf("a locked-out sign-in of %s allocated %d MiB: the password was hashed", user, locked/mib)
		}
	}
}

// TestUnknownUserSameWork: refusing an unknown username costs the same
// password-hashing work as refusing a known one, on every version and
// whatever kind of hash the known user's password has, so response times
// do not reveal which usernames exist (issue 5, item 1).
func TestUnknownUserSameWork(t *testing.T) {
	h := newHarness(t, map[string]string{"MTAUTH_USER_LOCKOUT_LIMIT": "0", "MTAUTH_IP_LOCKOUT_LIMIT": "0"})
	addLockoutUser(t, h, "generated") // web services password generated: $sha256$
	if err := h.probe.Service.EnsureSignInUser(t.Context(), "chosen", "Chosen-1", "Chosen-WS-1"); err != nil {
		t.Fatal(err) // both passwords chosen: $argon2id$
	}
	for _, version := range []int{1, 4} {
		work := func(user string) uint64 {
			return allocated(func() {
				wantError(t, h.do(t, signInAt(version, user, "wrong-guess", defaultIP)), 401, "Invalid login")
			})
		}
		unknown := work("ghost")
		for _, known := range []string{"generated", "chosen"} {
			w := work(known)
			diff := max(w, unknown) - min(w, unknown)
			if diff > 8*mib {
				t.Errorf("v%d: refusing %s allocates %d MiB, refusing an unknown user %d MiB: "+
					"the time taken tells which usernames exist", version, known, w/mib, unknown/mib)
			}
		}
	}
}
