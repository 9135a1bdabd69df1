// Package storagetest is the conformance suite for storage.Store. Every
// backend's tests call RunTests; a backend is correct when it passes it.
//
// Every subtest gets a fresh, empty store, works at a fixed base time and
// passes now explicitly, so no test sleeps or depends on the wall clock.
// Times are whole seconds unless a test is about precision: the interface
// promises second precision and no more.
package storagetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mtauth/mtauth/pkg/storage"
)

// base is the instant every test starts at.
var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Lifetimes of the test data: a token expires well before its session,
// unless a test says otherwise.
const (
	sessionTTL = time.Hour
	tokenTTL   = 15 * time.Minute
)

// at returns the instant d after base.
func at(d time.Duration) time.Time { return base.Add(d) }

// soon is when most operations happen: everything created at base is live.
var soon = at(time.Minute)

type test struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// RunTests runs the conformance suite. newStore must return a fresh, empty
// store each time it is called; it is called once per subtest, with that
// subtest's t. The Concurrency tests call the store from many goroutines at
// once and expect every call that may succeed to succeed: a backend retries
// its own transaction conflicts rather than report them.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Users", userTests()},
		{"Sessions", sessionTests()},
		{"Tokens", tokenTests()},
		{"ValidateAccessToken", validateTests()},
		{"AddAccessToken", addTests()},
		{"DeleteAccessToken", deleteTokenTests()},
		{"DeleteSession", deleteSessionTests()},
		{"Counters", counterTests()},
		{"OneTimeTokens", oneTimeTests()},
		{"Concurrency", concurrencyTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, newStore(t))
				})
			}
		})
	}
}

// ---------------------------------------------------------------- users

func userTests() []test {
	return []test{
		{"CreateAndGet", testUserCreateAndGet},
		{"FieldsRoundTrip", testUserFieldsRoundTrip},
		{"TimesSecondPrecision", testUserTimes},
		{"CreateDuplicate", testUserCreateDuplicate},
		{"GetMissing", testUserGetMissing},
		{"UsernameCaseSensitive", testUserCaseSensitive},
		{"Update", testUserUpdate},
		{"UpdateMissing", testUserUpdateMissing},
		{"ListEmpty", testUserListEmpty},
		{"ListOrderedByUsername", testUserListOrdered},
	}
}

func testUserCreateAndGet(t *testing.T, s storage.Store) {
	want := newUser("alice")
	mustCreateUser(t, s, want)
	got, err := s.GetUser(t.Context(), "alice")
	mustNot(t, err, "GetUser")
	checkUser(t, "GetUser", got, want)
}

func testUserFieldsRoundTrip(t *testing.T, s storage.Store) {
	full := newUser("full")
	full.Permissions = []string{"sign_in_data_api", "manage_users", "read_only"}
	full.DisplayName = "Zoë O'Brien – ops"

	bare := storage.User{ID: "id-bare", Username: "bare", Status: storage.UserPending,
		CreatedAt: base, UpdatedAt: base}

	disabled := newUser("disabled")
	disabled.Status = storage.UserDisabled
	disabled.Superuser = false
	disabled.Permissions = []string{}

	users := []storage.User{full, bare, disabled}
	for _, u := range users {
		mustCreateUser(t, s, u)
	}
	for _, want := range users {
		got, err := s.GetUser(t.Context(), want.Username)
		mustNot(t, err, "GetUser "+want.Username)
		checkUser(t, "GetUser "+want.Username, got, want)
	}
	list, err := s.ListUsers(t.Context())
	mustNot(t, err, "ListUsers")
	if len(list) != len(users) {
		t.Fatalf("ListUsers returned %d users, want %d", len(list), len(users))
	}
	for _, got := range list {
		i := slices.IndexFunc(users, func(u storage.User) bool { return u.Username == got.Username })
		if i < 0 {
			t.Errorf("ListUsers returned unknown user %q", got.Username)
			continue
		}
		checkUser(t, "ListUsers "+got.Username, got, users[i])
	}
}

func testUserTimes(t *testing.T, s storage.Store) {
	zone := time.FixedZone("UTC+2", 2*60*60)
	u := newUser("alice")
	// Sub-second part and a zone other than UTC: the store keeps the
	// instant to the second, without rounding up or shifting by the offset.
	u.CreatedAt = time.Date(2026, 1, 2, 5, 4, 5, 999_999_999, zone)
	u.UpdatedAt = time.Date(2026, 1, 2, 5, 4, 6, 0, zone)
	mustCreateUser(t, s, u)
	got, err := s.GetUser(t.Context(), "alice")
	mustNot(t, err, "GetUser")
	if !got.CreatedAt.Truncate(time.Second).Equal(u.CreatedAt.Truncate(time.Second)) {
		t.Errorf("CreatedAt = %v, want %v to the second", got.CreatedAt, u.CreatedAt)
	}
	if !got.UpdatedAt.Equal(u.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, u.UpdatedAt)
	}
}

func testUserCreateDuplicate(t *testing.T, s storage.Store) {
	orig := newUser("alice")
	mustCreateUser(t, s, orig)
	dup := newUser("alice")
	dup.ID = "id-impostor"
	dup.DisplayName = "Impostor"
	dup.PasswordHash = "other-hash"
	wantErr(t, s.CreateUser(t.Context(), dup), storage.ErrAlreadyExists, "CreateUser of a taken username")
	got, err := s.GetUser(t.Context(), "alice")
	mustNot(t, err, "GetUser")
	checkUser(t, "GetUser after refused duplicate", got, orig)
}

func testUserGetMissing(t *testing.T, s storage.Store) {
	_, err := s.GetUser(t.Context(), "nobody")
	wantErr(t, err, storage.ErrNotFound, "GetUser on an empty store")
	mustCreateUser(t, s, newUser("alice"))
	_, err = s.GetUser(t.Context(), "nobody")
	wantErr(t, err, storage.ErrNotFound, "GetUser of another username")
}

func testUserCaseSensitive(t *testing.T, s storage.Store) {
	alice := newUser("alice")
	mustCreateUser(t, s, alice)
	for _, name := range []string{"Alice", "ALICE", "alice ", " alice", "alic", "alice2"} {
		_, err := s.GetUser(t.Context(), name)
		wantErr(t, err, storage.ErrNotFound, "GetUser "+strconv.Quote(name))
	}
	wantErr(t, s.UpdateUser(t.Context(), newUser("ALICE")), storage.ErrNotFound, `UpdateUser "ALICE"`)

	upper := newUser("Alice")
	mustCreateUser(t, s, upper)
	for _, want := range []storage.User{alice, upper} {
		got, err := s.GetUser(t.Context(), want.Username)
		mustNot(t, err, "GetUser "+strconv.Quote(want.Username))
		checkUser(t, "GetUser "+strconv.Quote(want.Username), got, want)
	}
}

func testUserUpdate(t *testing.T, s storage.Store) {
	orig := newUser("alice")
	bob := newUser("bob")
	mustCreateUser(t, s, orig)
	mustCreateUser(t, s, bob)

	upd := orig
	upd.DisplayName = ""
	upd.Email = "alice@example.org"
	upd.Status = storage.UserDisabled
	upd.Superuser = false
	upd.Permissions = []string{"read_only"}
	upd.PasswordHash = "new-password-hash"
	upd.WebServicesPasswordHash = ""
	upd.UpdatedAt = at(time.Hour)
	mustNot(t, s.UpdateUser(t.Context(), upd), "UpdateUser")

	got, err := s.GetUser(t.Context(), "alice")
	mustNot(t, err, "GetUser")
	checkUser(t, "GetUser after update", got, upd)
	got, err = s.GetUser(t.Context(), "bob")
	mustNot(t, err, "GetUser bob")
	checkUser(t, "GetUser of another user after update", got, bob)
}

func testUserUpdateMissing(t *testing.T, s storage.Store) {
	wantErr(t, s.UpdateUser(t.Context(), newUser("ghost")), storage.ErrNotFound, "UpdateUser of a missing user")
	_, err := s.GetUser(t.Context(), "ghost")
	wantErr(t, err, storage.ErrNotFound, "GetUser after a refused update (update must not create)")
}

func testUserListEmpty(t *testing.T, s storage.Store) {
	users, err := s.ListUsers(t.Context())
	mustNot(t, err, "ListUsers")
	if len(users) != 0 {
		t.Errorf("ListUsers on an empty store = %v, want none", usernames(users))
	}
}

func testUserListOrdered(t *testing.T, s storage.Store) {
	names := []string{"mallory", "Bob", "alice", "bob", "Alice", "alice.smith", "al", "Zed"}
	for _, name := range names {
		mustCreateUser(t, s, newUser(name))
	}
	// Sessions, tokens, one-time tokens and counters are stored too; they
	// are not users.
	sess, first := newSession("alice")
	mustCreateSession(t, s, sess, first)
	mustNot(t, s.CreateOneTimeToken(t.Context(), newOneTime("alice")), "CreateOneTimeToken")
	_, err := s.IncrementCounters(t.Context(), []storage.CounterIncrement{newIncrement("user:alice")}, soon)
	mustNot(t, err, "IncrementCounters")

	users, err := s.ListUsers(t.Context())
	mustNot(t, err, "ListUsers")
	want := slices.Clone(names)
	slices.Sort(want)
	if got := usernames(users); !slices.Equal(got, want) {
		t.Fatalf("ListUsers usernames = %q, want %q (byte order)", got, want)
	}
	for _, got := range users {
		checkUser(t, "ListUsers "+strconv.Quote(got.Username), got, newUser(got.Username))
	}
}

// ------------------------------------------------------------- sessions

func sessionTests() []test {
	return []test{
		{"CreateAndGet", testSessionCreateAndGet},
		{"GetMissing", testSessionGetMissing},
		{"Expiry", testSessionExpiry},
		{"CreateDuplicateSession", testSessionDuplicate},
		{"CreateDuplicateToken", testSessionDuplicateToken},
		{"CreateForInactiveUser", testSessionInactiveUser},
		{"CreateResetsCounters", testSessionResetsCounters},
		{"RefusedCreateKeepsCounters", testSessionRefusedKeepsCounters},
	}
}

func testSessionResetsCounters(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	keys := []string{"user:alice", "ip:192.0.2.1", "ip:192.0.2.2"}
	for _, k := range keys {
		count(t, s, k, soon)
	}
	sess, first := newSession("alice")
	mustNot(t, s.CreateSession(t.Context(), sess, first, keys[0], keys[1], "never-counted"),
		"CreateSession resetting counters")
	_, err := s.GetSession(t.Context(), sess.IDHash, soon)
	mustNot(t, err, "GetSession")
	checkCounts(t, s, "after CreateSession resetting two of them", keys, []int{0, 0, 1})
}

func testSessionRefusedKeepsCounters(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	keys := []string{"user:alice", "ip:192.0.2.1"}
	for _, k := range keys {
		count(t, s, k, soon)
	}

	dup, tok := newSession("alice")
	dup.IDHash = f.sess.IDHash
	tok.SessionIDHash = dup.IDHash
	wantErr(t, s.CreateSession(t.Context(), dup, tok, keys...), storage.ErrAlreadyExists, "CreateSession of a taken session hash")
	checkCounts(t, s, "after a refused duplicate CreateSession", keys, []int{1, 1})

	setStatus(t, s, "alice", storage.UserDisabled)
	sess, first := newSession("alice")
	wantErr(t, s.CreateSession(t.Context(), sess, first, keys...), storage.ErrPreconditionFailed, "CreateSession for a disabled user")
	checkCounts(t, s, "after a refused CreateSession for a disabled user", keys, []int{1, 1})
}

func testSessionCreateAndGet(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	sess, first := newSession("alice")
	sess.ClientID = "data-api"
	sess.Remember = true
	sess.LastUsedAt = at(2 * time.Second) // distinct from CreatedAt, to catch swapped fields
	mustCreateSession(t, s, sess, first)

	other, otherFirst := newSession("alice")
	other.ClientID = "console"
	other.Remember, otherFirst.SessionRemember = false, false
	mustCreateSession(t, s, other, otherFirst)

	for _, want := range []storage.Session{sess, other} {
		got, err := s.GetSession(t.Context(), want.IDHash, soon)
		mustNot(t, err, "GetSession")
		checkSession(t, "GetSession", got, want)
	}
	for _, want := range []storage.AccessToken{first, otherFirst} {
		got, err := s.GetAccessToken(t.Context(), want.IDHash, soon)
		mustNot(t, err, "GetAccessToken of the first token")
		checkToken(t, "GetAccessToken of the first token", got, want)
	}
}

func testSessionGetMissing(t *testing.T, s storage.Store) {
	_, err := s.GetSession(t.Context(), randomHash(), soon)
	wantErr(t, err, storage.ErrNotFound, "GetSession on an empty store")
	f := signIn(t, s, "alice")
	_, err = s.GetSession(t.Context(), randomHash(), soon)
	wantErr(t, err, storage.ErrNotFound, "GetSession of an unknown hash")
	// A token's hash is not a session's.
	_, err = s.GetSession(t.Context(), f.first.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "GetSession of a token's hash")
}

func testSessionExpiry(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	exp := f.sess.ExpiresAt
	for _, tc := range []struct {
		now  time.Time
		live bool
	}{
		{exp.Add(-time.Second), true},
		{exp.Add(-time.Nanosecond), true},
		{exp, false},
		{exp.Add(time.Nanosecond), false},
		{exp.Add(24 * time.Hour), false},
	} {
		got, err := s.GetSession(t.Context(), f.sess.IDHash, tc.now)
		op := "GetSession at ExpiresAt" + offset(tc.now, exp)
		if tc.live {
			mustNot(t, err, op)
			checkSession(t, op, got, f.sess)
		} else {
			wantErr(t, err, storage.ErrNotFound, op)
		}
	}
}

func testSessionDuplicate(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	dup, tok := newSession("alice")
	dup.IDHash = f.sess.IDHash
	dup.ClientID = "other-client"
	tok.SessionIDHash = dup.IDHash
	wantErr(t, s.CreateSession(t.Context(), dup, tok), storage.ErrAlreadyExists, "CreateSession with a taken session hash")

	got, err := s.GetSession(t.Context(), f.sess.IDHash, soon)
	mustNot(t, err, "GetSession")
	checkSession(t, "GetSession after refused duplicate", got, f.sess)
	_, err = s.GetAccessToken(t.Context(), tok.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "GetAccessToken of the refused session's first token")
}

func testSessionDuplicateToken(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	sess, tok := newSession("alice")
	tok.IDHash = f.first.IDHash
	wantErr(t, s.CreateSession(t.Context(), sess, tok), storage.ErrAlreadyExists, "CreateSession with a taken token hash")

	_, err := s.GetSession(t.Context(), sess.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "GetSession of the refused session")
	got, err := s.GetAccessToken(t.Context(), f.first.IDHash, soon)
	mustNot(t, err, "GetAccessToken of the existing token")
	checkToken(t, "existing token after refused duplicate", got, f.first)
}

func testSessionInactiveUser(t *testing.T, s storage.Store) {
	disabled := newUser("disabled")
	disabled.Status = storage.UserDisabled
	pending := newUser("pending")
	pending.Status = storage.UserPending
	mustCreateUser(t, s, disabled)
	mustCreateUser(t, s, pending)
	for _, username := range []string{"disabled", "pending", "missing"} {
		sess, first := newSession(username)
		wantErr(t, s.CreateSession(t.Context(), sess, first), storage.ErrPreconditionFailed,
			"CreateSession for user "+strconv.Quote(username))
		_, err := s.GetSession(t.Context(), sess.IDHash, soon)
		wantErr(t, err, storage.ErrNotFound, "GetSession of the refused session for "+strconv.Quote(username))
		_, err = s.GetAccessToken(t.Context(), first.IDHash, soon)
		wantErr(t, err, storage.ErrNotFound, "GetAccessToken of the refused session's token for "+strconv.Quote(username))
	}
}

// --------------------------------------------------------------- tokens

func tokenTests() []test {
	return []test{
		{"Get", testTokenGet},
		{"GetMissing", testTokenGetMissing},
		{"Expiry", testTokenExpiry},
		{"GetIgnoresUserStatus", testTokenGetIgnoresUser},
	}
}

func testTokenGet(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	second := mint(t, s, f.sess, at(2*time.Minute))
	for _, want := range []storage.AccessToken{f.first, second} {
		got, err := s.GetAccessToken(t.Context(), want.IDHash, at(3*time.Minute))
		mustNot(t, err, "GetAccessToken")
		checkToken(t, "GetAccessToken", got, want)
	}
}

func testTokenGetMissing(t *testing.T, s storage.Store) {
	_, err := s.GetAccessToken(t.Context(), randomHash(), soon)
	wantErr(t, err, storage.ErrNotFound, "GetAccessToken on an empty store")
	f := signIn(t, s, "alice")
	_, err = s.GetAccessToken(t.Context(), randomHash(), soon)
	wantErr(t, err, storage.ErrNotFound, "GetAccessToken of an unknown hash")
	_, err = s.GetAccessToken(t.Context(), f.sess.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "GetAccessToken of a session's hash")
}

func testTokenExpiry(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	exp := f.first.ExpiresAt
	for _, tc := range []struct {
		now  time.Time
		live bool
	}{
		{exp.Add(-time.Second), true},
		{exp.Add(-time.Nanosecond), true},
		{exp, false},
		{exp.Add(time.Nanosecond), false},
		{exp.Add(time.Hour), false},
	} {
		got, err := s.GetAccessToken(t.Context(), f.first.IDHash, tc.now)
		op := "GetAccessToken at ExpiresAt" + offset(tc.now, exp)
		if tc.live {
			mustNot(t, err, op)
			checkToken(t, op, got, f.first)
		} else {
			wantErr(t, err, storage.ErrNotFound, op)
		}
	}
}

func testTokenGetIgnoresUser(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	setStatus(t, s, "alice", storage.UserDisabled)
	got, err := s.GetAccessToken(t.Context(), f.first.IDHash, soon)
	mustNot(t, err, "GetAccessToken of a disabled user's token")
	checkToken(t, "GetAccessToken of a disabled user's token", got, f.first)
}

// -------------------------------------------------- ValidateAccessToken

func validateTests() []test {
	return []test{
		{"OK", testValidateOK},
		{"Missing", testValidateMissing},
		{"TokenExpired", testValidateTokenExpired},
		{"SessionExpired", testValidateSessionExpired},
		{"SessionDeleted", testValidateSessionDeleted},
		{"UserInactive", testValidateUserInactive},
	}
}

func testValidateOK(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	other := signIn(t, s, "bob")
	for _, g := range []fixture{f, other} {
		tok, sess, err := s.ValidateAccessToken(t.Context(), g.first.IDHash, soon)
		mustNot(t, err, "ValidateAccessToken")
		checkToken(t, "ValidateAccessToken token", tok, g.first)
		checkSession(t, "ValidateAccessToken session", sess, g.sess)
	}
}

func testValidateMissing(t *testing.T, s storage.Store) {
	signIn(t, s, "alice")
	_, _, err := s.ValidateAccessToken(t.Context(), randomHash(), soon)
	wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken of an unknown hash")
}

func testValidateTokenExpired(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	exp := f.first.ExpiresAt
	_, _, err := s.ValidateAccessToken(t.Context(), f.first.IDHash, exp.Add(-time.Second))
	mustNot(t, err, "ValidateAccessToken a second before the token expires")
	_, _, err = s.ValidateAccessToken(t.Context(), f.first.IDHash, exp)
	wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken at the token's ExpiresAt")
	_, err = s.GetSession(t.Context(), f.sess.IDHash, exp)
	mustNot(t, err, "GetSession when the token has expired (the session has not)")
}

func testValidateSessionExpired(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	sess, first := newSession("alice")
	sess.ExpiresAt = at(10 * time.Minute) // the token outlives its session
	mustCreateSession(t, s, sess, first)

	_, _, err := s.ValidateAccessToken(t.Context(), first.IDHash, sess.ExpiresAt.Add(-time.Second))
	mustNot(t, err, "ValidateAccessToken a second before the session expires")
	_, _, err = s.ValidateAccessToken(t.Context(), first.IDHash, sess.ExpiresAt)
	wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken at the session's ExpiresAt")
	// The token itself is still live: it is the session that failed.
	_, err = s.GetAccessToken(t.Context(), first.IDHash, sess.ExpiresAt)
	mustNot(t, err, "GetAccessToken at the session's ExpiresAt")
}

func testValidateSessionDeleted(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	mustNot(t, s.DeleteSession(t.Context(), f.sess, "", soon), "DeleteSession")
	_, _, err := s.ValidateAccessToken(t.Context(), f.first.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken after DeleteSession")
}

func testValidateUserInactive(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	for _, status := range []storage.UserStatus{storage.UserDisabled, storage.UserPending} {
		setStatus(t, s, "alice", status)
		_, _, err := s.ValidateAccessToken(t.Context(), f.first.IDHash, soon)
		wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken of a "+string(status)+" user's token")
	}
	// The status is read at each validation, not remembered.
	setStatus(t, s, "alice", storage.UserActive)
	_, _, err := s.ValidateAccessToken(t.Context(), f.first.IDHash, soon)
	mustNot(t, err, "ValidateAccessToken after the user is active again")
}

// ------------------------------------------------------- AddAccessToken

func addTests() []test {
	tests := []test{
		{"OK", testAddOK},
		{"WithLivePresentedToken", testAddPresentedLive},
	}
	for _, c := range addRefusedCases {
		tests = append(tests, test{c.name, func(t *testing.T, s storage.Store) { runAddRefused(t, s, c) }})
	}
	return tests
}

func testAddOK(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	now := at(10 * time.Minute)
	nt := newToken(f.sess, now)
	mustNot(t, s.AddAccessToken(t.Context(), nt, now), "AddAccessToken")

	got, err := s.GetAccessToken(t.Context(), nt.Token.IDHash, now)
	mustNot(t, err, "GetAccessToken of the new token")
	checkToken(t, "GetAccessToken of the new token", got, nt.Token)

	wantSess := f.sess
	wantSess.LastUsedAt = now
	wantSess.ExpiresAt = nt.SessionExpiresAt
	tok, sess, err := s.ValidateAccessToken(t.Context(), nt.Token.IDHash, now)
	mustNot(t, err, "ValidateAccessToken of the new token")
	checkToken(t, "ValidateAccessToken token", tok, nt.Token)
	checkSession(t, "ValidateAccessToken session (extended)", sess, wantSess)

	// The session now lives past its original expiry.
	late := f.sess.ExpiresAt.Add(5 * time.Minute)
	sess, err = s.GetSession(t.Context(), f.sess.IDHash, late)
	mustNot(t, err, "GetSession after the original expiry")
	checkSession(t, "GetSession after the original expiry", sess, wantSess)

	_, _, err = s.ValidateAccessToken(t.Context(), f.first.IDHash, now)
	mustNot(t, err, "ValidateAccessToken of the first token")
}

func testAddPresentedLive(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	nt := newToken(f.sess, soon)
	nt.PresentedTokenHash = f.first.IDHash
	mustNot(t, s.AddAccessToken(t.Context(), nt, soon), "AddAccessToken presenting a live token")
	_, _, err := s.ValidateAccessToken(t.Context(), nt.Token.IDHash, soon)
	mustNot(t, err, "ValidateAccessToken of the new token")
}

// world is what the refused-AddAccessToken cases start from: alice and bob
// each signed in at base.
type world struct{ alice, bob fixture }

type addRefusedCase struct {
	name string
	// setup returns the request and the instant it is made at.
	setup   func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time)
	want    error
	collide bool // the new token's hash is an existing token's
	// sessionGone: alice's session no longer exists when the request is made.
	sessionGone bool
}

// addRefusedCases are AddAccessToken requests that must be refused, each
// run on a fresh store by runAddRefused.
var addRefusedCases = []addRefusedCase{
	{name: "SessionMissing", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			sess, _ := newSession("alice") // never stored
			return newToken(sess, soon), soon
		}},
	{name: "SessionExpired", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			now := w.alice.sess.ExpiresAt
			return newToken(w.alice.sess, now), now
		}},
	{name: "SessionDeleted", want: storage.ErrPreconditionFailed, sessionGone: true,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			mustNot(t, s.DeleteSession(t.Context(), w.alice.sess, "", soon), "DeleteSession")
			return newToken(w.alice.sess, soon), soon
		}},
	{name: "OtherUsersSession", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			nt := newToken(w.alice.sess, soon)
			nt.Token.Username = "bob" // bob is active, but the session is alice's
			return nt, soon
		}},
	{name: "UserDisabled", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			setStatus(t, s, "alice", storage.UserDisabled)
			return newToken(w.alice.sess, soon), soon
		}},
	{name: "UserPending", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			setStatus(t, s, "alice", storage.UserPending)
			return newToken(w.alice.sess, soon), soon
		}},
	{name: "PresentedTokenMissing", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			nt := newToken(w.alice.sess, soon)
			nt.PresentedTokenHash = randomHash()
			return nt, soon
		}},
	{name: "PresentedTokenExpired", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			now := w.alice.first.ExpiresAt // the session is still live
			nt := newToken(w.alice.sess, now)
			nt.PresentedTokenHash = w.alice.first.IDHash
			return nt, now
		}},
	{name: "PresentedTokenDeleted", want: storage.ErrPreconditionFailed,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			mustNot(t, s.DeleteAccessToken(t.Context(), w.alice.first, soon), "DeleteAccessToken")
			nt := newToken(w.alice.sess, soon)
			nt.PresentedTokenHash = w.alice.first.IDHash
			return nt, soon
		}},
	{name: "TokenHashCollision", want: storage.ErrAlreadyExists, collide: true,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			nt := newToken(w.alice.sess, soon)
			nt.Token.IDHash = w.alice.first.IDHash
			return nt, soon
		}},
	{name: "TokenHashCollisionOtherSession", want: storage.ErrAlreadyExists, collide: true,
		setup: func(t *testing.T, s storage.Store, w world) (storage.NewToken, time.Time) {
			nt := newToken(w.alice.sess, soon)
			nt.Token.IDHash = w.bob.first.IDHash
			return nt, soon
		}},
}

// runAddRefused runs one refused-AddAccessToken case and checks that the
// store is as it was: no token written or overwritten, no session
// extended or re-created.
func runAddRefused(t *testing.T, s storage.Store, c addRefusedCase) {
	w := world{alice: signIn(t, s, "alice"), bob: signIn(t, s, "bob")}
	nt, now := c.setup(t, s, w)
	wantErr(t, s.AddAccessToken(t.Context(), nt, now), c.want, "AddAccessToken")

	if c.collide {
		for _, existing := range []storage.AccessToken{w.alice.first, w.bob.first} {
			got, err := s.GetAccessToken(t.Context(), existing.IDHash, soon)
			mustNot(t, err, "GetAccessToken of the existing token")
			checkToken(t, "existing token after a refused colliding AddAccessToken", got, existing)
		}
	} else {
		_, err := s.GetAccessToken(t.Context(), nt.Token.IDHash, now)
		wantErr(t, err, storage.ErrNotFound, "GetAccessToken of the refused token")
	}

	// Read the session at soon, when it was live, to see its stored times.
	got, err := s.GetSession(t.Context(), nt.Token.SessionIDHash, soon)
	switch {
	case nt.Token.SessionIDHash != w.alice.sess.IDHash || c.sessionGone:
		wantErr(t, err, storage.ErrNotFound, "GetSession of the missing session (a refused AddAccessToken must not create it)")
	default:
		mustNot(t, err, "GetSession")
		checkSession(t, "session after a refused AddAccessToken (must not be extended)", got, w.alice.sess)
	}
}

// ---------------------------------------------------- DeleteAccessToken

func deleteTokenTests() []test {
	tests := []test{
		{"OK", testDeleteTokenOK},
		{"SessionExpired", testDeleteTokenSessionExpired},
	}
	for _, c := range deleteTokenRefusedCases {
		tests = append(tests, test{c.name, func(t *testing.T, s storage.Store) { runDeleteTokenRefused(t, s, c) }})
	}
	return tests
}

func testDeleteTokenOK(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	second := mint(t, s, f.sess, soon)
	third := mint(t, s, f.sess, soon)
	mustNot(t, s.DeleteAccessToken(t.Context(), second, soon), "DeleteAccessToken")

	_, err := s.GetAccessToken(t.Context(), second.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "GetAccessToken of the deleted token")
	_, _, err = s.ValidateAccessToken(t.Context(), second.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken of the deleted token")
	for _, tok := range []storage.AccessToken{f.first, third} {
		_, _, err := s.ValidateAccessToken(t.Context(), tok.IDHash, soon)
		mustNot(t, err, "ValidateAccessToken of another token of the same session")
	}
	_, err = s.GetSession(t.Context(), f.sess.IDHash, soon)
	mustNot(t, err, "GetSession after deleting one of its tokens")
}

type deleteTokenRefusedCase struct {
	name string
	// setup returns the token to delete and the instant of the request.
	setup func(t *testing.T, s storage.Store, f fixture) (storage.AccessToken, time.Time)
	// remains: the token is still stored afterwards (read at soon).
	remains bool
}

// deleteTokenRefusedCases are DeleteAccessToken requests that must fail
// with ErrPreconditionFailed, each run on a fresh store.
var deleteTokenRefusedCases = []deleteTokenRefusedCase{
	{name: "Twice",
		setup: func(t *testing.T, s storage.Store, f fixture) (storage.AccessToken, time.Time) {
			mustNot(t, s.DeleteAccessToken(t.Context(), f.first, soon), "first DeleteAccessToken")
			return f.first, soon
		}},
	{name: "Missing",
		setup: func(t *testing.T, s storage.Store, f fixture) (storage.AccessToken, time.Time) {
			tok := f.first
			tok.IDHash = randomHash()
			return tok, soon
		}},
	{name: "TokenExpired", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (storage.AccessToken, time.Time) {
			return f.first, f.first.ExpiresAt
		}},
	{name: "SessionDeleted", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (storage.AccessToken, time.Time) {
			mustNot(t, s.DeleteSession(t.Context(), f.sess, "", soon), "DeleteSession")
			return f.first, soon
		}},
	{name: "UserDisabled", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (storage.AccessToken, time.Time) {
			setStatus(t, s, f.user.Username, storage.UserDisabled)
			return f.first, soon
		}},
	{name: "UserPending", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (storage.AccessToken, time.Time) {
			setStatus(t, s, f.user.Username, storage.UserPending)
			return f.first, soon
		}},
}

func runDeleteTokenRefused(t *testing.T, s storage.Store, c deleteTokenRefusedCase) {
	f := signIn(t, s, "alice")
	tok, now := c.setup(t, s, f)
	wantErr(t, s.DeleteAccessToken(t.Context(), tok, now), storage.ErrPreconditionFailed, "DeleteAccessToken")
	if c.remains {
		got, err := s.GetAccessToken(t.Context(), tok.IDHash, soon)
		mustNot(t, err, "GetAccessToken after a refused DeleteAccessToken (nothing may be deleted)")
		checkToken(t, "token after a refused DeleteAccessToken", got, tok)
	}
}

// testDeleteTokenSessionExpired needs a token that outlives its session.
func testDeleteTokenSessionExpired(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	sess, first := newSession("alice")
	sess.ExpiresAt = at(10 * time.Minute)
	mustCreateSession(t, s, sess, first)
	wantErr(t, s.DeleteAccessToken(t.Context(), first, sess.ExpiresAt), storage.ErrPreconditionFailed,
		"DeleteAccessToken at the session's ExpiresAt")
	got, err := s.GetAccessToken(t.Context(), first.IDHash, sess.ExpiresAt)
	mustNot(t, err, "GetAccessToken after a refused DeleteAccessToken")
	checkToken(t, "token after a refused DeleteAccessToken", got, first)
}

// -------------------------------------------------------- DeleteSession

func deleteSessionTests() []test {
	tests := []test{
		{"OK", testDeleteSessionOK},
		{"WithoutPresentedToken", testDeleteSessionNoPresented},
		{"OnlyThatSession", testDeleteSessionOnlyThat},
		{"Missing", testDeleteSessionMissing},
	}
	for _, c := range deleteSessionRefusedCases {
		tests = append(tests, test{c.name, func(t *testing.T, s storage.Store) { runDeleteSessionRefused(t, s, c) }})
	}
	return tests
}

func testDeleteSessionOK(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	tokens := []storage.AccessToken{f.first, mint(t, s, f.sess, soon), mint(t, s, f.sess, soon)}
	for _, tok := range tokens {
		_, _, err := s.ValidateAccessToken(t.Context(), tok.IDHash, soon)
		mustNot(t, err, "ValidateAccessToken before DeleteSession")
	}
	mustNot(t, s.DeleteSession(t.Context(), f.sess, f.first.IDHash, soon), "DeleteSession")

	_, err := s.GetSession(t.Context(), f.sess.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "GetSession after DeleteSession")
	for _, tok := range tokens {
		_, _, err := s.ValidateAccessToken(t.Context(), tok.IDHash, soon)
		wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken of a token of the deleted session")
	}
}

func testDeleteSessionNoPresented(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	mustNot(t, s.DeleteSession(t.Context(), f.sess, "", soon), "DeleteSession without a presented token")
	_, err := s.GetSession(t.Context(), f.sess.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "GetSession after DeleteSession")
	_, _, err = s.ValidateAccessToken(t.Context(), f.first.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "ValidateAccessToken after DeleteSession")
}

func testDeleteSessionOnlyThat(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	other, otherFirst := newSession("alice")
	mustCreateSession(t, s, other, otherFirst)
	mustNot(t, s.DeleteSession(t.Context(), f.sess, f.first.IDHash, soon), "DeleteSession")

	tok, sess, err := s.ValidateAccessToken(t.Context(), otherFirst.IDHash, soon)
	mustNot(t, err, "ValidateAccessToken of the user's other session")
	checkToken(t, "other session's token", tok, otherFirst)
	checkSession(t, "other session", sess, other)
}

type deleteSessionRefusedCase struct {
	name string
	// setup returns the presented token hash and the instant of the request.
	setup func(t *testing.T, s storage.Store, f fixture) (presented string, now time.Time)
	// remains: the session is still stored afterwards (read at soon).
	remains bool
}

// deleteSessionRefusedCases are DeleteSession requests that must fail with
// ErrPreconditionFailed, each run on a fresh store.
var deleteSessionRefusedCases = []deleteSessionRefusedCase{
	{name: "Twice",
		setup: func(t *testing.T, s storage.Store, f fixture) (string, time.Time) {
			mustNot(t, s.DeleteSession(t.Context(), f.sess, "", soon), "first DeleteSession")
			return "", soon
		}},
	{name: "SessionExpired", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (string, time.Time) {
			return "", f.sess.ExpiresAt
		}},
	{name: "PresentedTokenMissing", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (string, time.Time) {
			return randomHash(), soon
		}},
	{name: "PresentedTokenExpired", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (string, time.Time) {
			return f.first.IDHash, f.first.ExpiresAt // the session is still live
		}},
	{name: "PresentedTokenDeleted", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (string, time.Time) {
			mustNot(t, s.DeleteAccessToken(t.Context(), f.first, soon), "DeleteAccessToken")
			return f.first.IDHash, soon
		}},
	{name: "UserDisabled", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (string, time.Time) {
			setStatus(t, s, f.user.Username, storage.UserDisabled)
			return f.first.IDHash, soon
		}},
	{name: "UserPending", remains: true,
		setup: func(t *testing.T, s storage.Store, f fixture) (string, time.Time) {
			setStatus(t, s, f.user.Username, storage.UserPending)
			return "", soon
		}},
}

func runDeleteSessionRefused(t *testing.T, s storage.Store, c deleteSessionRefusedCase) {
	f := signIn(t, s, "alice")
	presented, now := c.setup(t, s, f)
	wantErr(t, s.DeleteSession(t.Context(), f.sess, presented, now), storage.ErrPreconditionFailed, "DeleteSession")
	if c.remains {
		got, err := s.GetSession(t.Context(), f.sess.IDHash, soon)
		mustNot(t, err, "GetSession after a refused DeleteSession (nothing may be deleted)")
		checkSession(t, "session after a refused DeleteSession", got, f.sess)
	}
}

func testDeleteSessionMissing(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	sess, _ := newSession("alice") // never stored
	wantErr(t, s.DeleteSession(t.Context(), sess, "", soon), storage.ErrPreconditionFailed, "DeleteSession of a missing session")
}

// ------------------------------------------------------------- counters

func counterTests() []test {
	return []test{
		{"GetUserAndMissingCounters", testCounterGetMissing},
		{"GetWithoutUser", testCounterGetWithoutUser},
		{"IncrementOpensWindow", testCounterOpensWindow},
		{"IncrementWithinWindow", testCounterWithinWindow},
		{"IncrementAfterWindow", testCounterAfterWindow},
		{"WindowOpenHintIsOnlyAHint", testCounterHint},
		{"SeveralKeys", testCounterSeveralKeys},
		{"Delete", testCounterDelete},
	}
}

const (
	counterWindow = 10 * time.Minute
	counterKeep   = time.Hour
)

func testCounterGetMissing(t *testing.T, s storage.Store) {
	alice := newUser("alice")
	mustCreateUser(t, s, alice)
	keys := []string{"user:alice", "ip:192.0.2.1"}
	u, found, counters, err := s.GetUserAndCounters(t.Context(), "alice", keys)
	mustNot(t, err, "GetUserAndCounters")
	if !found {
		t.Fatal("GetUserAndCounters: found = false for an existing user")
	}
	checkUser(t, "GetUserAndCounters user", u, alice)
	if len(counters) != len(keys) {
		t.Fatalf("GetUserAndCounters returned %d counters for %d keys", len(counters), len(keys))
	}
	for i, c := range counters {
		if c.Key != keys[i] || c.Count != 0 {
			t.Errorf("counter %d = %+v, want key %q with count 0", i, c, keys[i])
		}
	}
}

func testCounterGetWithoutUser(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	count(t, s, "ip:192.0.2.1", soon)
	for _, username := range []string{"", "nobody", "Alice"} {
		_, found, counters, err := s.GetUserAndCounters(t.Context(), username, []string{"ip:192.0.2.1"})
		mustNot(t, err, "GetUserAndCounters "+strconv.Quote(username))
		if found {
			t.Errorf("GetUserAndCounters %s: found = true, want false", strconv.Quote(username))
		}
		if len(counters) != 1 || counters[0].Count != 1 {
			t.Errorf("GetUserAndCounters %s: counters = %+v, want the IP counter at 1", strconv.Quote(username), counters)
		}
	}
}

func testCounterOpensWindow(t *testing.T, s storage.Store) {
	got := count(t, s, "user:alice", soon)
	want := storage.Counter{Key: "user:alice", Count: 1, WindowEnds: soon.Add(counterWindow), LastAt: soon}
	checkCounter(t, "IncrementCounters on a new key", got, want)
	checkCounter(t, "GetUserAndCounters after it", readCounter(t, s, "user:alice"), want)
}

func testCounterWithinWindow(t *testing.T, s storage.Store) {
	count(t, s, "user:alice", soon)
	ends := soon.Add(counterWindow)
	got := count(t, s, "user:alice", soon.Add(time.Minute))
	checkCounter(t, "second IncrementCounters in the window", got,
		storage.Counter{Key: "user:alice", Count: 2, WindowEnds: ends, LastAt: soon.Add(time.Minute)})
	last := ends.Add(-time.Second)
	got = count(t, s, "user:alice", last)
	want := storage.Counter{Key: "user:alice", Count: 3, WindowEnds: ends, LastAt: last}
	checkCounter(t, "IncrementCounters a second before the window closes", got, want)
	checkCounter(t, "GetUserAndCounters after it", readCounter(t, s, "user:alice"), want)
}

func testCounterAfterWindow(t *testing.T, s storage.Store) {
	count(t, s, "user:alice", soon)
	count(t, s, "user:alice", soon.Add(time.Minute))
	ends := soon.Add(counterWindow) // the window is open while now < ends
	got := count(t, s, "user:alice", ends)
	want := storage.Counter{Key: "user:alice", Count: 1, WindowEnds: ends.Add(counterWindow), LastAt: ends}
	checkCounter(t, "IncrementCounters when the window has closed", got, want)
	checkCounter(t, "GetUserAndCounters after it", readCounter(t, s, "user:alice"), want)
}

func testCounterHint(t *testing.T, s storage.Store) {
	// Each key is in one state; each is counted with a wrong and a right
	// hint, on separate keys, and must come out the same.
	for _, hint := range []bool{false, true} {
		missing := "missing:" + strconv.FormatBool(hint)
		open := "open:" + strconv.FormatBool(hint)
		closed := "closed:" + strconv.FormatBool(hint)
		count(t, s, open, soon)
		count(t, s, closed, soon)
		now := soon.Add(time.Minute)
		closedAt := soon.Add(counterWindow)

		inc := func(key string, at time.Time) storage.Counter {
			i := newIncrement(key)
			i.WindowOpen = hint
			cs, err := s.IncrementCounters(t.Context(), []storage.CounterIncrement{i}, at)
			mustNot(t, err, "IncrementCounters "+key)
			if len(cs) != 1 {
				t.Fatalf("IncrementCounters %s returned %d counters, want 1", key, len(cs))
			}
			return cs[0]
		}
		checkCounter(t, "missing key, hint "+strconv.FormatBool(hint), inc(missing, now),
			storage.Counter{Key: missing, Count: 1, WindowEnds: now.Add(counterWindow), LastAt: now})
		checkCounter(t, "open window, hint "+strconv.FormatBool(hint), inc(open, now),
			storage.Counter{Key: open, Count: 2, WindowEnds: soon.Add(counterWindow), LastAt: now})
		checkCounter(t, "closed window, hint "+strconv.FormatBool(hint), inc(closed, closedAt),
			storage.Counter{Key: closed, Count: 1, WindowEnds: closedAt.Add(counterWindow), LastAt: closedAt})
	}
}

func testCounterSeveralKeys(t *testing.T, s storage.Store) {
	count(t, s, "user:alice", soon)
	count(t, s, "user:alice", soon)
	now := soon.Add(time.Second)
	got, err := s.IncrementCounters(t.Context(),
		[]storage.CounterIncrement{newIncrement("user:alice"), newIncrement("ip:192.0.2.1")}, now)
	mustNot(t, err, "IncrementCounters")
	if len(got) != 2 {
		t.Fatalf("IncrementCounters of two keys returned %d counters", len(got))
	}
	checkCounter(t, "first key", got[0], storage.Counter{Key: "user:alice", Count: 3, WindowEnds: soon.Add(counterWindow), LastAt: now})
	checkCounter(t, "second key", got[1], storage.Counter{Key: "ip:192.0.2.1", Count: 1, WindowEnds: now.Add(counterWindow), LastAt: now})
	checkCounts(t, s, "after counting two keys", []string{"ip:192.0.2.1", "user:alice", "ip:192.0.2.2"}, []int{1, 3, 0})
}

func testCounterDelete(t *testing.T, s storage.Store) {
	count(t, s, "user:alice", soon)
	count(t, s, "user:alice", soon)
	count(t, s, "user:bob", soon)
	mustNot(t, s.DeleteCounter(t.Context(), "user:alice"), "DeleteCounter")
	checkCounts(t, s, "after DeleteCounter", []string{"user:alice", "user:bob"}, []int{0, 1})
	mustNot(t, s.DeleteCounter(t.Context(), "user:alice"), "DeleteCounter of a deleted counter")
	mustNot(t, s.DeleteCounter(t.Context(), "never-counted"), "DeleteCounter of a missing counter")

	// Counting again starts afresh, with a new window.
	now := soon.Add(time.Minute)
	checkCounter(t, "IncrementCounters after DeleteCounter", count(t, s, "user:alice", now),
		storage.Counter{Key: "user:alice", Count: 1, WindowEnds: now.Add(counterWindow), LastAt: now})
}

// ------------------------------------------------------ one-time tokens

func oneTimeTests() []test {
	return []test{
		{"CreateGetAndExchange", testOneTimeExchange},
		{"CreateDuplicate", testOneTimeDuplicate},
		{"Missing", testOneTimeMissing},
		{"Expiry", testOneTimeExpiry},
		{"ExchangeForInactiveUser", testOneTimeInactiveUser},
		{"ExchangeWithTakenSessionHash", testOneTimeTakenSession},
		{"CreateResetsCounters", testOneTimeResetsCounters},
		{"RefusedCreateKeepsCounters", testOneTimeRefusedKeepsCounters},
	}
}

// exchange spends a one-time token for a new session of its user, as the
// service does, and returns the session and its first token.
func exchange(t *testing.T, s storage.Store, ott storage.OneTimeToken, now time.Time) (storage.Session, storage.AccessToken, error) {
	t.Helper()
	sess, first := newSession(ott.Username)
	return sess, first, s.CreateSessionFromOneTimeToken(t.Context(), ott.IDHash, sess, first, now)
}

func testOneTimeExchange(t *testing.T, s storage.Store) {
	for _, name := range []string{"alice", "bob"} {
		mustCreateUser(t, s, newUser(name))
	}
	remember := newOneTime("alice")
	forget := newOneTime("bob")
	forget.Remember = false
	forget.ClientID = "console"
	for _, ott := range []storage.OneTimeToken{remember, forget} {
		mustNot(t, s.CreateOneTimeToken(t.Context(), ott), "CreateOneTimeToken")
	}
	for _, want := range []storage.OneTimeToken{remember, forget} {
		got, err := s.GetOneTimeToken(t.Context(), want.IDHash, soon)
		mustNot(t, err, "GetOneTimeToken")
		checkOneTime(t, "GetOneTimeToken", got, want)
		got, err = s.GetOneTimeToken(t.Context(), want.IDHash, soon)
		mustNot(t, err, "a second GetOneTimeToken (reading does not spend)")
		checkOneTime(t, "second GetOneTimeToken", got, want)

		_, first, err := exchange(t, s, want, soon)
		mustNot(t, err, "CreateSessionFromOneTimeToken")
		_, _, err = s.ValidateAccessToken(t.Context(), first.IDHash, soon)
		mustNot(t, err, "ValidateAccessToken of the exchanged session's token")
		_, err = s.GetOneTimeToken(t.Context(), want.IDHash, soon)
		wantErr(t, err, storage.ErrNotFound, "GetOneTimeToken after the exchange")
		_, second, err := exchange(t, s, want, soon)
		wantErr(t, err, storage.ErrPreconditionFailed, "second CreateSessionFromOneTimeToken")
		_, err = s.GetAccessToken(t.Context(), second.IDHash, soon)
		wantErr(t, err, storage.ErrNotFound, "token of a refused exchange")
	}
}

func testOneTimeDuplicate(t *testing.T, s storage.Store) {
	orig := newOneTime("alice")
	mustNot(t, s.CreateOneTimeToken(t.Context(), orig), "CreateOneTimeToken")
	dup := newOneTime("mallory")
	dup.IDHash = orig.IDHash
	wantErr(t, s.CreateOneTimeToken(t.Context(), dup), storage.ErrAlreadyExists, "CreateOneTimeToken of a taken hash")
	got, err := s.GetOneTimeToken(t.Context(), orig.IDHash, soon)
	mustNot(t, err, "GetOneTimeToken")
	checkOneTime(t, "token after a refused duplicate", got, orig)
}

func testOneTimeMissing(t *testing.T, s storage.Store) {
	_, err := s.GetOneTimeToken(t.Context(), randomHash(), soon)
	wantErr(t, err, storage.ErrNotFound, "GetOneTimeToken on an empty store")
	// Other records are not one-time tokens.
	f := signIn(t, s, "alice")
	for _, h := range []string{f.sess.IDHash, f.first.IDHash} {
		_, err := s.GetOneTimeToken(t.Context(), h, soon)
		wantErr(t, err, storage.ErrNotFound, "GetOneTimeToken of a session's or access token's hash")
	}
	_, first, err := exchange(t, s, newOneTime("alice"), soon)
	wantErr(t, err, storage.ErrPreconditionFailed, "CreateSessionFromOneTimeToken of a missing one-time token")
	_, err = s.GetAccessToken(t.Context(), first.IDHash, soon)
	wantErr(t, err, storage.ErrNotFound, "token of a refused exchange")
	_, _, err = s.ValidateAccessToken(t.Context(), f.first.IDHash, soon)
	mustNot(t, err, "ValidateAccessToken after those attempts")
}

func testOneTimeExpiry(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	for _, tc := range []struct {
		offset time.Duration
		live   bool
	}{
		{-time.Second, true},
		{-time.Nanosecond, true},
		{0, false},
		{time.Nanosecond, false},
		{time.Hour, false},
	} {
		ott := newOneTime("alice")
		mustNot(t, s.CreateOneTimeToken(t.Context(), ott), "CreateOneTimeToken")
		now := ott.ExpiresAt.Add(tc.offset)
		got, err := s.GetOneTimeToken(t.Context(), ott.IDHash, now)
		op := "GetOneTimeToken at ExpiresAt" + offset(now, ott.ExpiresAt)
		_, _, exchangeErr := exchange(t, s, ott, now)
		if tc.live {
			mustNot(t, err, op)
			checkOneTime(t, op, got, ott)
			mustNot(t, exchangeErr, "exchange, live")
		} else {
			wantErr(t, err, storage.ErrNotFound, op)
			wantErr(t, exchangeErr, storage.ErrPreconditionFailed, "exchange, expired")
		}
	}
}

func testOneTimeResetsCounters(t *testing.T, s storage.Store) {
	keys := []string{"user:alice", "ip:192.0.2.1"}
	for _, k := range keys {
		count(t, s, k, soon)
	}
	ott := newOneTime("alice")
	mustNot(t, s.CreateOneTimeToken(t.Context(), ott, keys[0], "never-counted"), "CreateOneTimeToken resetting counters")
	got, err := s.GetOneTimeToken(t.Context(), ott.IDHash, soon)
	mustNot(t, err, "GetOneTimeToken")
	checkOneTime(t, "GetOneTimeToken", got, ott)
	checkCounts(t, s, "after CreateOneTimeToken resetting one of them", keys, []int{0, 1})
}

func testOneTimeRefusedKeepsCounters(t *testing.T, s storage.Store) {
	orig := newOneTime("alice")
	mustNot(t, s.CreateOneTimeToken(t.Context(), orig), "CreateOneTimeToken")
	count(t, s, "user:alice", soon)
	dup := newOneTime("alice")
	dup.IDHash = orig.IDHash
	wantErr(t, s.CreateOneTimeToken(t.Context(), dup, "user:alice"), storage.ErrAlreadyExists,
		"CreateOneTimeToken of a taken hash, resetting a counter")
	checkCounts(t, s, "after the refused CreateOneTimeToken", []string{"user:alice"}, []int{1})
}

// testOneTimeInactiveUser: an exchange for a user disabled meanwhile is
// refused and leaves the one-time token unspent.
func testOneTimeInactiveUser(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("alice"))
	ott := newOneTime("alice")
	mustNot(t, s.CreateOneTimeToken(t.Context(), ott), "CreateOneTimeToken")
	setStatus(t, s, "alice", storage.UserDisabled)
	_, _, err := exchange(t, s, ott, soon)
	wantErr(t, err, storage.ErrPreconditionFailed, "exchange for a disabled user")
	_, err = s.GetOneTimeToken(t.Context(), ott.IDHash, soon)
	mustNot(t, err, "GetOneTimeToken after a refused exchange (not spent)")
}

// testOneTimeTakenSession: a failed session write leaves the token unspent.
func testOneTimeTakenSession(t *testing.T, s storage.Store) {
	f := signIn(t, s, "alice")
	ott := newOneTime("alice")
	mustNot(t, s.CreateOneTimeToken(t.Context(), ott), "CreateOneTimeToken")
	sess, first := newSession("alice")
	sess.IDHash = f.sess.IDHash
	wantErr(t, s.CreateSessionFromOneTimeToken(t.Context(), ott.IDHash, sess, first, soon), storage.ErrAlreadyExists,
		"CreateSessionFromOneTimeToken with a taken session hash")
	_, err := s.GetOneTimeToken(t.Context(), ott.IDHash, soon)
	mustNot(t, err, "GetOneTimeToken after a refused exchange (not spent)")
}

// ---------------------------------------------------------- concurrency

func concurrencyTests() []test {
	return []test{
		{"MintOnOneSession", testConcurrentMint},
		{"MintRacingDeleteSession", testMintRacingDelete},
		{"IncrementNewCounter", func(t *testing.T, s storage.Store) { testConcurrentIncrement(t, s, 0) }},
		{"IncrementOpenCounter", func(t *testing.T, s storage.Store) { testConcurrentIncrement(t, s, 1) }},
		{"ExchangeOneTimeToken", testConcurrentConsume},
	}
}

// testConcurrentIncrement counts each of a few keys from many goroutines at
// once, all racing together, starting with no counters (so they race to
// open the window) or with open windows (so they race to add): no count is
// lost, and each call sees its counter just after its own increment, so
// the counts returned for a key are distinct and consecutive.
func testConcurrentIncrement(t *testing.T, s storage.Store, before int) {
	const keys, n = 5, 20
	key := func(k int) string { return "user:" + strconv.Itoa(k) }
	for k := range keys {
		for range before {
			count(t, s, key(k), soon)
		}
	}
	counts := make([][]int, keys)
	errs := make([][]error, keys)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range keys {
		counts[k], errs[k] = make([]int, n), make([]error, n)
		for i := range n {
			wg.Go(func() {
				<-start
				cs, err := s.IncrementCounters(t.Context(), []storage.CounterIncrement{newIncrement(key(k))}, soon)
				errs[k][i] = err
				if err == nil && len(cs) == 1 {
					counts[k][i] = cs[0].Count
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for k := range keys {
		for _, err := range errs[k] {
			if err != nil {
				t.Errorf("concurrent IncrementCounters of %s: %v", key(k), err)
			}
		}
		slices.Sort(counts[k])
		for i, c := range counts[k] {
			if c != before+i+1 {
				t.Errorf("counts returned by %d concurrent increments of %s after %d = %v, want %d to %d each once",
					n, key(k), before, counts[k], before+1, before+n)
				break
			}
		}
		checkCounts(t, s, "after concurrent increments", []string{key(k)}, []int{before + n})
	}
}

// testConcurrentConsume presents each of several one-time tokens from many
// goroutines at once, all racing together: exactly one gets each token.
func testConcurrentConsume(t *testing.T, s storage.Store) {
	const tokens, n = 10, 8
	mustCreateUser(t, s, newUser("alice"))
	otts := make([]storage.OneTimeToken, tokens)
	for k := range otts {
		otts[k] = newOneTime("alice")
		mustNot(t, s.CreateOneTimeToken(t.Context(), otts[k]), "CreateOneTimeToken")
	}
	firsts := make([][]storage.AccessToken, tokens)
	errs := make([][]error, tokens)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range otts {
		firsts[k], errs[k] = make([]storage.AccessToken, n), make([]error, n)
		for i := range n {
			wg.Go(func() {
				<-start
				_, firsts[k][i], errs[k][i] = exchange(t, s, otts[k], soon)
			})
		}
	}
	close(start)
	wg.Wait()
	for k := range otts {
		winners := 0
		for i, err := range errs[k] {
			_, _, validErr := s.ValidateAccessToken(t.Context(), firsts[k][i].IDHash, soon)
			switch {
			case err == nil:
				winners++
				mustNot(t, validErr, "ValidateAccessToken of the winner's session")
			case errors.Is(err, storage.ErrPreconditionFailed):
				wantErr(t, validErr, storage.ErrNotFound, "ValidateAccessToken of a loser's token")
			default:
				t.Errorf("concurrent exchange: %v, want nil or %v", err, storage.ErrPreconditionFailed)
			}
		}
		if winners != 1 {
			t.Errorf("token %d: %d of %d concurrent exchanges succeeded, want exactly 1", k, winners, n)
		}
	}
}

// testConcurrentMint mints tokens on one session from many goroutines at
// once. Every mint must succeed (a backend retries its own transaction
// conflicts), and no write may be lost.
func testConcurrentMint(t *testing.T, s storage.Store) {
	const n = 20
	f := signIn(t, s, "alice")
	reqs := make([]storage.NewToken, n)
	for i := range reqs {
		reqs[i] = newToken(f.sess, soon.Add(time.Duration(i)*time.Second))
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() {
			<-start
			errs[i] = s.AddAccessToken(t.Context(), reqs[i], reqs[i].Token.CreatedAt)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("AddAccessToken %d of %d concurrent: %v, want success", i, n, err)
		}
	}

	check := soon.Add(n * time.Second)
	for i, r := range reqs {
		tok, _, err := s.ValidateAccessToken(t.Context(), r.Token.IDHash, check)
		if err != nil {
			t.Errorf("ValidateAccessToken of concurrent token %d: %v", i, err)
			continue
		}
		checkToken(t, "concurrent token", tok, r.Token)
	}
	_, _, err := s.ValidateAccessToken(t.Context(), f.first.IDHash, check)
	mustNot(t, err, "ValidateAccessToken of the first token")

	// The session was extended by one of the mints, as a whole: its
	// LastUsedAt and ExpiresAt come from the same request.
	sess, err := s.GetSession(t.Context(), f.sess.IDHash, check)
	mustNot(t, err, "GetSession")
	i := slices.IndexFunc(reqs, func(r storage.NewToken) bool { return r.Token.CreatedAt.Equal(sess.LastUsedAt) })
	if i < 0 {
		t.Fatalf("session LastUsedAt = %v, not the now of any mint", sess.LastUsedAt)
	}
	if !sess.ExpiresAt.Equal(reqs[i].SessionExpiresAt) {
		t.Errorf("session ExpiresAt = %v, LastUsedAt = %v: from different mints (want ExpiresAt %v)",
			sess.ExpiresAt, sess.LastUsedAt, reqs[i].SessionExpiresAt)
	}
}

// testMintRacingDelete mints tokens on a session from several goroutines
// while the session is deleted. Once DeleteSession has returned, no token
// of the session validates, including tokens whose AddAccessToken returned
// nil concurrently, and no mint that starts afterwards succeeds.
func testMintRacingDelete(t *testing.T, s storage.Store) {
	const (
		minters   = 8
		maxMints  = 200 // per minter, in case the session is never deleted
		checkTime = 2 * time.Minute
	)
	f := signIn(t, s, "alice")
	now := soon

	var (
		deleted     atomic.Bool // set once DeleteSession has returned
		mu          sync.Mutex
		succeeded   []string // hashes whose AddAccessToken returned nil
		attempted   []string
		once        sync.Once
		firstMinted = make(chan struct{})
		wg          sync.WaitGroup
	)
	for range minters {
		wg.Go(func() {
			for range maxMints {
				after := deleted.Load()
				nt := newToken(f.sess, now)
				mu.Lock()
				attempted = append(attempted, nt.Token.IDHash)
				mu.Unlock()
				err := s.AddAccessToken(t.Context(), nt, now)
				if err != nil {
					if !errors.Is(err, storage.ErrPreconditionFailed) {
						t.Errorf("AddAccessToken racing DeleteSession: %v, want nil or %v", err, storage.ErrPreconditionFailed)
					}
					return
				}
				if after {
					t.Errorf("AddAccessToken started after DeleteSession returned succeeded")
				}
				mu.Lock()
				succeeded = append(succeeded, nt.Token.IDHash)
				mu.Unlock()
				once.Do(func() { close(firstMinted) })
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	select {
	case <-firstMinted:
	case <-done:
		t.Fatal("no AddAccessToken succeeded before the session was deleted")
	}
	err := s.DeleteSession(t.Context(), f.sess, "", now)
	deleted.Store(true)
	if err != nil {
		<-done
		t.Fatalf("DeleteSession racing AddAccessToken: %v", err)
	}

	// Right away, while minters may still be running.
	mu.Lock()
	minted := slices.Clone(succeeded)
	mu.Unlock()
	for _, h := range append(minted, f.first.IDHash) {
		_, _, err := s.ValidateAccessToken(t.Context(), h, at(checkTime))
		wantErrNoFatal(t, err, storage.ErrNotFound, "ValidateAccessToken right after DeleteSession returned")
	}

	<-done
	for _, h := range attempted {
		_, _, err := s.ValidateAccessToken(t.Context(), h, at(checkTime))
		wantErrNoFatal(t, err, storage.ErrNotFound, "ValidateAccessToken of a token minted during DeleteSession")
	}
	_, err = s.GetSession(t.Context(), f.sess.IDHash, at(checkTime))
	wantErr(t, err, storage.ErrNotFound, "GetSession after DeleteSession")
	t.Logf("%d of %d mints succeeded before the session was deleted", len(succeeded), len(attempted))
}

// -------------------------------------------------------------- helpers

type fixture struct {
	user  storage.User
	sess  storage.Session
	first storage.AccessToken
}

// signIn stores an active user and a session of it with its first token,
// all created at base (see newSession).
func signIn(t *testing.T, s storage.Store, username string) fixture {
	t.Helper()
	u := newUser(username)
	mustCreateUser(t, s, u)
	sess, first := newSession(username)
	mustCreateSession(t, s, sess, first)
	return fixture{user: u, sess: sess, first: first}
}

// newUser returns an active user with every field set.
func newUser(username string) storage.User {
	return storage.User{
		ID:                      "id-" + username,
		Username:                username,
		DisplayName:             "User " + username,
		Email:                   username + "@example.com",
		Status:                  storage.UserActive,
		Superuser:               true,
		Permissions:             []string{"sign_in_data_api", "manage_users"},
		PasswordHash:            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$" + username,
		WebServicesPasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$d3M$" + username,
		CreatedAt:               base,
		UpdatedAt:               base.Add(time.Second),
	}
}

// newSession returns a session created at base that lives sessionTTL, and
// its first token, which lives tokenTTL. Neither is stored.
func newSession(username string) (storage.Session, storage.AccessToken) {
	sess := storage.Session{
		IDHash:     randomHash(),
		Username:   username,
		ClientID:   "client-" + username,
		Remember:   true,
		CreatedAt:  base,
		LastUsedAt: base,
		ExpiresAt:  base.Add(sessionTTL),
	}
	first := storage.AccessToken{
		IDHash:          randomHash(),
		SessionIDHash:   sess.IDHash,
		Username:        username,
		SessionRemember: sess.Remember,
		SessionClientID: sess.ClientID,
		CreatedAt:       base,
		ExpiresAt:       base.Add(tokenTTL),
	}
	return sess, first
}

// newToken returns a request to mint a token in sess at now: the token
// lives tokenTTL and the session is extended to now+sessionTTL.
func newToken(sess storage.Session, now time.Time) storage.NewToken {
	return storage.NewToken{
		Token: storage.AccessToken{
			IDHash:          randomHash(),
			SessionIDHash:   sess.IDHash,
			Username:        sess.Username,
			SessionRemember: sess.Remember,
			SessionClientID: sess.ClientID,
			CreatedAt:       now,
			ExpiresAt:       now.Add(tokenTTL),
		},
		SessionExpiresAt: now.Add(sessionTTL),
	}
}

// mint stores a new token in sess at now and returns it.
func mint(t *testing.T, s storage.Store, sess storage.Session, now time.Time) storage.AccessToken {
	t.Helper()
	nt := newToken(sess, now)
	mustNot(t, s.AddAccessToken(t.Context(), nt, now), "AddAccessToken")
	return nt.Token
}

// newOneTime returns a one-time token for username that expires five
// minutes after base. It is not stored.
func newOneTime(username string) storage.OneTimeToken {
	return storage.OneTimeToken{
		IDHash:    randomHash(),
		Username:  username,
		ClientID:  "data-api",
		Remember:  true,
		ExpiresAt: base.Add(5 * time.Minute),
	}
}

// newIncrement asks to count one event under key, in a window of
// counterWindow, kept for counterKeep.
func newIncrement(key string) storage.CounterIncrement {
	return storage.CounterIncrement{Key: key, Window: counterWindow, KeepFor: counterKeep}
}

// count counts one event under key at now and returns the counter.
func count(t *testing.T, s storage.Store, key string, now time.Time) storage.Counter {
	t.Helper()
	cs, err := s.IncrementCounters(t.Context(), []storage.CounterIncrement{newIncrement(key)}, now)
	mustNot(t, err, "IncrementCounters "+strconv.Quote(key))
	if len(cs) != 1 {
		t.Fatalf("IncrementCounters %s returned %d counters, want 1", strconv.Quote(key), len(cs))
	}
	return cs[0]
}

// readCounter reads one counter with GetUserAndCounters.
func readCounter(t *testing.T, s storage.Store, key string) storage.Counter {
	t.Helper()
	_, _, cs, err := s.GetUserAndCounters(t.Context(), "", []string{key})
	mustNot(t, err, "GetUserAndCounters")
	if len(cs) != 1 {
		t.Fatalf("GetUserAndCounters of one key returned %d counters", len(cs))
	}
	return cs[0]
}

// checkCounts reads the counters under keys, in that order, and checks
// their counts.
func checkCounts(t *testing.T, s storage.Store, when string, keys []string, want []int) {
	t.Helper()
	_, _, cs, err := s.GetUserAndCounters(t.Context(), "alice", keys)
	mustNot(t, err, "GetUserAndCounters "+when)
	got := make([]int, len(cs))
	for i, c := range cs {
		got[i] = c.Count
		if i < len(keys) && c.Key != keys[i] {
			t.Errorf("GetUserAndCounters %s: counter %d has key %q, want %q", when, i, c.Key, keys[i])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("counts of %q %s = %v, want %v", keys, when, got, want)
	}
}

func mustCreateUser(t *testing.T, s storage.Store, u storage.User) {
	t.Helper()
	mustNot(t, s.CreateUser(t.Context(), u), "CreateUser "+strconv.Quote(u.Username))
}

func mustCreateSession(t *testing.T, s storage.Store, sess storage.Session, first storage.AccessToken) {
	t.Helper()
	mustNot(t, s.CreateSession(t.Context(), sess, first), "CreateSession")
}

func setStatus(t *testing.T, s storage.Store, username string, status storage.UserStatus) {
	t.Helper()
	u, err := s.GetUser(t.Context(), username)
	mustNot(t, err, "GetUser "+strconv.Quote(username))
	u.Status = status
	mustNot(t, s.UpdateUser(t.Context(), u), "UpdateUser "+strconv.Quote(username))
}

// randomHash returns 64 random hex digits, the shape of a SHA-256 hash.
func randomHash() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand.Read does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

func mustNot(t *testing.T, err error, op string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

func wantErr(t *testing.T, err, want error, op string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", op, err, want)
	}
}

// wantErrNoFatal is wantErr for goroutines other than the test's and for
// checks that should all be reported.
func wantErrNoFatal(t *testing.T, err, want error, op string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", op, err, want)
	}
}

func checkUser(t *testing.T, op string, got, want storage.User) {
	t.Helper()
	if g, w := normUser(got), normUser(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", op, g, w)
	}
}

func checkSession(t *testing.T, op string, got, want storage.Session) {
	t.Helper()
	if g, w := normSession(got), normSession(want); g != w {
		t.Errorf("%s:\n got %+v\nwant %+v", op, g, w)
	}
}

func checkToken(t *testing.T, op string, got, want storage.AccessToken) {
	t.Helper()
	if g, w := normToken(got), normToken(want); g != w {
		t.Errorf("%s:\n got %+v\nwant %+v", op, g, w)
	}
}

// The norm functions make values comparable with ==: times in UTC (the
// same instant compares equal whatever its zone), and no permissions as nil.

func normUser(u storage.User) storage.User {
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	if len(u.Permissions) == 0 {
		u.Permissions = nil
	}
	return u
}

func normSession(s storage.Session) storage.Session {
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastUsedAt.UTC(), s.ExpiresAt.UTC()
	return s
}

func normToken(a storage.AccessToken) storage.AccessToken {
	a.CreatedAt, a.ExpiresAt = a.CreatedAt.UTC(), a.ExpiresAt.UTC()
	return a
}

func checkCounter(t *testing.T, op string, got, want storage.Counter) {
	t.Helper()
	got.WindowEnds, got.LastAt = got.WindowEnds.UTC(), got.LastAt.UTC()
	want.WindowEnds, want.LastAt = want.WindowEnds.UTC(), want.LastAt.UTC()
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", op, got, want)
	}
}

func checkOneTime(t *testing.T, op string, got, want storage.OneTimeToken) {
	t.Helper()
	got.ExpiresAt, want.ExpiresAt = got.ExpiresAt.UTC(), want.ExpiresAt.UTC()
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", op, got, want)
	}
}

func usernames(users []storage.User) []string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Username
	}
	return names
}

// offset describes now relative to exp, for messages: "-1s", "+1ns", "".
func offset(now, exp time.Time) string {
	switch d := now.Sub(exp); {
	case d < 0:
		return d.String()
	case d > 0:
		return "+" + d.String()
	}
	return ""
}
