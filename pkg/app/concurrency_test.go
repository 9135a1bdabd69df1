package app_test

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mtauth/mtauth/pkg/motoserver"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
	"github.com/mtauth/mtauth/pkg/storage/dynamo/dynamotest"
	"github.com/mtauth/mtauth/pkg/storage/embedded"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// backend opens a fresh, empty mtauth table.
type backend struct {
	name string
	open func(t *testing.T) (dynamo.API, string)
}

var backends = []backend{
	{"embedded", func(t *testing.T) (dynamo.API, string) {
		raw, err := embedded.New(t.Context(), testTable)
		if err != nil {
			t.Fatal(err)
		}
		return raw, testTable
	}},
	{"moto_server", openMoto},
}

// openMoto creates a uniquely named table on the shared moto_server,
// through a client made the way production makes one (dynamo.NewClient).
// The test must not be parallel (t.Setenv).
func openMoto(t *testing.T) (dynamo.API, string) {
	t.Helper()
	client := dynamotest.MotoClient(t)
	return client, dynamotest.NewTable(t, client)
}

// secrets collects every secret handed out, to check none repeats.
type secrets struct {
	mu   sync.Mutex
	seen map[string]string
}

func (s *secrets) add(t *testing.T, kind, v string) {
	if !hex40.MatchString(v) {
		t.Errorf("%s %q is not 40 lowercase hex characters", kind, v)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]string{}
	}
	if prev, dup := s.seen[v]; dup {
		t.Errorf("%s %s was already handed out as a %s", kind, v, prev)
	}
	s.seen[v] = kind
}

// okOr401 checks an answer is a success or 401 Unauthorized: never a 5xx,
// however the requests race.
func okOr401(t *testing.T, a answer) bool {
	t.Helper()
	if a.status == http.StatusOK {
		return true
	}
	wantError(t, a, http.StatusUnauthorized, "Unauthorized")
	return false
}

// TestConcurrency runs many users' sessions at once against the embedded
// store and moto_server, and checks the invariants of the contract.
func TestConcurrency(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			users, sessions := 8, 3
			if b.name == "moto_server" {
				users, sessions = 6, 2 // moto answers one request at a time
			}
			t.Run("sessions", func(t *testing.T) {
				raw, table := b.open(t)
				testConcurrentSessions(t, newHarnessOn(t, raw, table, nil), users, sessions)
			})
			t.Run("one-time tokens", func(t *testing.T) {
				raw, table := b.open(t)
				testConcurrentOneTimeTokens(t, newHarnessOn(t, raw, table, nil))
			})
			t.Run("failed sign-ins", func(t *testing.T) {
				raw, table := b.open(t)
				testConcurrentFailures(t, newHarnessOn(t, raw, table, nil))
			})
		})
	}
}

// sessionRun is what happened to one session.
type sessionRun struct {
	id        string
	mu        sync.Mutex
	tokens    []string        // every token handed out for the session
	revoked   map[string]bool // tokens revoked with 200
	signedOut bool            // DELETE /authentication answered 200
}

func (r *sessionRun) add(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens = append(r.tokens, token)
}

// testConcurrentSessions: every user has several sessions at once; in
// each, minters (by session id and by access token), a revoker and, for
// half the sessions, a sign-out run concurrently. Then:
//   - no token works after its session's sign-out returned, including
//     tokens whose minting raced the sign-out, and no mint that started
//     after the sign-out returned succeeds;
//   - no secret repeats;
//   - no write is lost: every token handed out and neither revoked nor
//     signed out works, and every revoked one does not.
func testConcurrentSessions(t *testing.T, h *harness, users, sessions int) {
	const minters, mintsEach = 3, 3
	var all secrets
	var runs []*sessionRun
	var runsMu sync.Mutex
	passwords := make([]string, users)
	for u := range users {
		passwords[u] = h.addUser(t, fmt.Sprintf("user%d", u))
	}

	var wg sync.WaitGroup
	for u := range users {
		for n := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				user := fmt.Sprintf("user%d", u)
				a := h.do(t, post("/v4/authentication", signInForm(user, passwords[u])))
				if a.status != http.StatusOK {
					t.Errorf("sign in %s: %d %s", user, a.status, a.body)
					return
				}
				run := &sessionRun{id: a.str("sessionId"), revoked: map[string]bool{}}
				all.add(t, "session id", run.id)
				all.add(t, "access token", a.str("accessToken"))
				run.add(a.str("accessToken"))
				first := a.str("accessToken")
				runsMu.Lock()
				runs = append(runs, run)
				runsMu.Unlock()

				var signedOut atomic.Bool
				var inner sync.WaitGroup
				for m := range minters {
					inner.Add(1)
					go func() {
						defer inner.Done()
						for k := range mintsEach {
							authz := bySession(run.id)
							if (m+k)%2 == 1 {
								authz = byToken(first)
							}
							after := signedOut.Load()
							a := h.do(t, post("/v4/token", nil).auth(authz))
							if !okOr401(t, a) {
								continue
							}
							token := a.str("accessToken")
							all.add(t, "access token", token)
							run.add(token)
							if after {
								t.Errorf("a mint that started after the sign-out returned succeeded")
							}
						}
					}()
				}
				// The revoker mints a token and revokes it.
				inner.Add(1)
				go func() {
					defer inner.Done()
					a := h.do(t, post("/v4/token", nil).auth(bySession(run.id)))
					if !okOr401(t, a) {
						return
					}
					token := a.str("accessToken")
					all.add(t, "access token", token)
					run.add(token)
					if okOr401(t, h.do(t, del("/v4/token").auth(byToken(token)))) {
						run.mu.Lock()
						run.revoked[token] = true
						run.mu.Unlock()
					}
				}()
				if n%2 == 0 {
					inner.Add(1)
					go func() {
						defer inner.Done()
						authz := bySession(run.id)
						if u%2 == 1 {
							authz = byToken(first)
						}
						a := h.do(t, del("/v4/authentication").auth(authz))
						if a.status != http.StatusOK {
							t.Errorf("sign out: %d %s", a.status, a.body)
							return
						}
						signedOut.Store(true)
						run.mu.Lock()
						run.signedOut = true
						tokens := append([]string(nil), run.tokens...)
						run.mu.Unlock()
						// From the moment DELETE returns, none works.
						for _, token := range tokens {
							if h.tokenWorks(t, token) {
								t.Errorf("a token works right after its session's sign-out returned")
							}
						}
					}()
				}
				inner.Wait()
			}()
		}
	}
	wg.Wait()

	signedOut, alive, revoked := 0, 0, 0
	for _, run := range runs {
		if run.signedOut {
			signedOut++
			if h.sessionAlive(t, run.id) {
				t.Errorf("a signed-out session is alive")
			}
			for _, token := range run.tokens {
				if h.tokenWorks(t, token) {
					t.Errorf("a token of a signed-out session works (minted while it was signed out)")
				}
			}
			continue
		}
		if !h.sessionAlive(t, run.id) {
			t.Errorf("a session nobody signed out is gone")
		}
		for _, token := range run.tokens {
			want := !run.revoked[token]
			if !want {
				revoked++
			} else {
				alive++
			}
			if got := h.tokenWorks(t, token); got != want {
				t.Errorf("token works = %v, want %v (revoked %v): a write was lost", got, want, run.revoked[token])
			}
		}
	}
	if signedOut == 0 || alive == 0 || revoked == 0 {
		t.Errorf("signed out %d sessions, %d live tokens, %d revoked: the test exercised too little", signedOut, alive, revoked)
	}
	t.Logf("%d sessions (%d signed out), %d secrets, %d live tokens, %d revoked", len(runs), signedOut, len(all.seen), alive, revoked)
}

// testConcurrentOneTimeTokens: several clients try to exchange the same
// one-time token at once; exactly one gets the session.
func testConcurrentOneTimeTokens(t *testing.T, h *harness) {
	const tokens, tries = 4, 6
	pw := h.addUser(t, "melody")
	var all secrets
	for range tokens {
		form := signInForm("melody", pw)
		form.Set("redirect_type", "blog")
		a := h.do(t, post("/v4/authentication", form))
		wantStatus(t, a, http.StatusOK)
		ott := a.str("oneTimeToken")
		all.add(t, "one-time token", ott)

		var wins atomic.Int32
		var granted atomic.Value
		var wg sync.WaitGroup
		for range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := h.do(t, post("/v4/token", nil).auth(byOneTime(ott)))
				if okOr401(t, a) {
					wins.Add(1)
					granted.Store(a.str("accessToken"))
					all.add(t, "session id", a.str("sessionId"))
					all.add(t, "access token", a.str("accessToken"))
				}
			}()
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Errorf("a one-time token was exchanged %d times, want exactly once", n)
			continue
		}
		if !h.tokenWorks(t, granted.Load().(string)) {
			t.Errorf("the exchanged session's token does not work")
		}
	}
}

// testConcurrentFailures: failed sign-ins made at once are all counted.
// Exactly the limit of concurrent failures locks (none lost), one fewer
// does not (none counted twice), and exactly one locked_out event is
// logged per lockout.
func testConcurrentFailures(t *testing.T, h *harness) {
	limit, ipLimit := h.settings.Lockout.UserLimit, h.settings.Lockout.IPLimit
	if limit != 6 || ipLimit != 10 {
		t.Fatalf("lockout limits %d, %d; want the defaults 6 and 10", limit, ipLimit)
	}
	pws := map[string]string{}
	for _, u := range []string{"atlimit", "belowlimit", "probe"} {
		pws[u] = h.addUser(t, u)
	}
	burst := func(n int, attempt func(i int) call) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wantError(t, h.do(t, attempt(i)), 401, "Invalid login")
			}()
		}
		wg.Wait()
	}
	// One user, each failure from its own address.
	userBurst := func(user string, n int, net string) {
		burst(n, func(i int) call {
			return post("/v4/authentication", signInForm(user, "wrong")).from(fmt.Sprintf("%s.%d", net, i+1))
		})
	}
	userBurst("atlimit", limit, "198.51.100")
	userBurst("belowlimit", limit-1, "198.51.101")
	// One address, each failure naming another (unknown) user.
	ipBurst := func(ip string, n int) {
		burst(n, func(i int) call {
			return post("/v4/authentication", signInForm(fmt.Sprintf("nobody-%s-%d", ip, i), "wrong")).from(ip)
		})
	}
	ipBurst("192.0.2.10", ipLimit)
	ipBurst("192.0.2.11", ipLimit-1)

	fresh := "192.0.2.99"
	wantError(t, h.do(t, post("/v4/authentication", signInForm("atlimit", pws["atlimit"])).from(fresh)), 401, "Invalid login")
	wantStatus(t, h.do(t, post("/v4/authentication", signInForm("belowlimit", pws["belowlimit"])).from(fresh)), http.StatusOK)
	wantError(t, h.do(t, post("/v4/authentication", signInForm("probe", pws["probe"])).from("192.0.2.10")), 401, "Invalid login")
	wantStatus(t, h.do(t, post("/v4/authentication", signInForm("probe", pws["probe"])).from("192.0.2.11")), http.StatusOK)

	locked := map[string]int{}
	for _, e := range h.logs.events(t, "locked_out") {
		locked[fmt.Sprint(e["key"])]++
	}
	want := map[string]int{"user:atlimit": 1, "ip:192.0.2.10": 1}
	if fmt.Sprint(locked) != fmt.Sprint(want) {
		t.Errorf("locked_out events per key %v, want %v", locked, want)
	}
}
