// Package auth is mtauth's sign-in, session and access-token service. It
// knows users, sessions, tokens and time, and nothing of HTTP, headers,
// cookies or status codes: the Data API layer translates requests into
// calls here and errors back into responses.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/mtauth/mtauth/pkg/password"
	"github.com/mtauth/mtauth/pkg/secret"
	"github.com/mtauth/mtauth/pkg/storage"
)

// Errors callers map to answers. Internal reasons (wrong password, user
// disabled, ...) are logged, never returned, so clients cannot tell them
// apart.
var (
	// ErrInvalidLogin: sign-in refused, whatever the reason.
	ErrInvalidLogin = errors.New("auth: invalid login")
	// ErrUnauthorized: the credentials presented do not (or no longer) work.
	ErrUnauthorized = errors.New("auth: unauthorized")
	// ErrUnavailable: storage failed; nothing was changed that the caller
	// could observe, and trying again may succeed.
	ErrUnavailable = errors.New("auth: service unavailable")
)

// MaxUsernameBytes bounds a username, as Movable Type's 255-character
// column does.
const MaxUsernameBytes = 255

// PermissionSignInDataAPI is the permission a non-superuser needs to sign
// in through the Data API.
const PermissionSignInDataAPI = "sign_in_data_api"

// PasswordKind selects which of a user's passwords a sign-in checks.
type PasswordKind int

// Data API v1 and v2 check the sign-in password; v3 and later the web
// services password.
const (
	SignInPassword PasswordKind = iota
	WebServicesPassword
)

// Lifetimes configures how long sessions and tokens live.
type Lifetimes struct {
	AccessToken       time.Duration
	Session           time.Duration
	RememberedSession time.Duration
}

// Policy is the operator's choice of lifetimes and lockout.
type Policy struct {
	Lifetimes Lifetimes
	Lockout   Lockout
}

// Service signs users in and out and issues and revokes access tokens.
type Service struct {
	store     storage.Store
	lifetimes Lifetimes
	lockout   Lockout
	now       func() time.Time
	log       *slog.Logger
}

// New returns a service. now is the clock (time.Now in production; tests
// pass a controllable one); log receives the audit events.
func New(store storage.Store, policy Policy, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: store, lifetimes: policy.Lifetimes, lockout: policy.Lockout, now: now, log: log}
}

// Credentials are what a request presented to prove who it is.
type Credentials struct {
	SessionID string
	// AccessToken is the token presented; AccessTokenPresented tells an
	// empty token (which never works) from none at all.
	AccessToken          string
	AccessTokenPresented bool
	// SessionUser and SessionClientID, when set, are the user and client
	// the session id came with (the browser sign-in cookie names both); a
	// session of another user or client is refused.
	SessionUser, SessionClientID string
}

// SignInRequest is a sign-in attempt.
type SignInRequest struct {
	Username, Password string
	Check              PasswordKind
	ClientID           string
	Remember           bool
	// ClientIP is the address the request came from, as the network (API
	// Gateway) saw it, for the IP lockout and the audit log.
	ClientIP string
}

// Grant is what a successful sign-in hands out.
type Grant struct {
	SessionID   string
	AccessToken string
	ExpiresIn   time.Duration
	Remember    bool
}

// Token is a newly issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
}

// OneTimeTokenTTL is how long a one-time token waits to be exchanged.
const OneTimeTokenTTL = 5 * time.Minute

// SignIn checks the credentials and, if they are good, starts a session
// with its first access token. Every refusal is ErrInvalidLogin.
func (s *Service) SignIn(ctx context.Context, req SignInRequest) (Grant, error) {
	user, failed, err := s.authenticate(ctx, req)
	if err != nil {
		return Grant{}, err
	}
	grant, err := s.startSession(ctx, user.Username, req.ClientID, req.Remember, failed...)
	if errors.Is(err, ErrUnauthorized) {
		return Grant{}, s.refuse(ctx, req, "user deactivated during sign-in")
	} else if err != nil {
		return Grant{}, err
	}
	s.log.InfoContext(ctx, "signed in", "event", "signed_in", "user", user.Username, "userId", user.ID, "clientId", req.ClientID, "remember", req.Remember)
	return grant, nil
}

// SignInForOneTimeToken checks the credentials like SignIn but, instead of
// a session, returns a one-time token: an app on another host exchanges
// it, once and within OneTimeTokenTTL, for the session (ExchangeOneTimeToken).
func (s *Service) SignInForOneTimeToken(ctx context.Context, req SignInRequest) (string, error) {
	user, failed, err := s.authenticate(ctx, req)
	if err != nil {
		return "", err
	}
	token := secret.New()
	err = s.store.CreateOneTimeToken(ctx, storage.OneTimeToken{
		IDHash: secret.Hash(token), Username: user.Username, ClientID: req.ClientID, Remember: req.Remember,
		ExpiresAt: s.now().Add(OneTimeTokenTTL),
	}, keys(failed)...)
	if err != nil {
		return "", s.unavailable(ctx, "create one-time token", err)
	}
	s.log.InfoContext(ctx, "signed in for a one-time token", "event", "signed_in", "user", user.Username, "userId", user.ID, "clientId", req.ClientID, "remember", req.Remember, "oneTimeToken", true)
	return token, nil
}

// ExchangeOneTimeToken consumes a one-time token and starts the session it
// stands for. A token works once; every later attempt is ErrUnauthorized.
//
// The token is read, then spent in the same transaction that creates the
// session, so a fault can never leave it spent without a session.
func (s *Service) ExchangeOneTimeToken(ctx context.Context, oneTimeToken string) (Grant, error) {
	now := s.now()
	t, err := s.store.GetOneTimeToken(ctx, secret.Hash(oneTimeToken), now)
	if err != nil {
		return Grant{}, s.denied(ctx, "read one-time token", err)
	}
	sessionID, tokenID := secret.New(), secret.New()
	session, token := s.newSession(sessionID, tokenID, t.Username, t.ClientID, t.Remember, now)
	if err := s.store.CreateSessionFromOneTimeToken(ctx, t.IDHash, session, token, now); err != nil {
		return Grant{}, s.denied(ctx, "exchange one-time token", err)
	}
	s.log.InfoContext(ctx, "one-time token exchanged", "event", "one_time_token_exchanged", "user", t.Username, "clientId", t.ClientID)
	return Grant{SessionID: sessionID, AccessToken: tokenID, ExpiresIn: s.lifetimes.AccessToken, Remember: t.Remember}, nil
}

// authenticate returns the user whose credentials req holds, or
// ErrInvalidLogin. It reads the user and the lockout counters in one
// call; a locked-out sign-in is refused before any password hashing, so
// guessing cannot burn CPU, and every refusal is counted. On success it
// also returns the user's counter if earlier failures are on it, for the
// caller to clear with the sign-in's own write.
func (s *Service) authenticate(ctx context.Context, req SignInRequest) (storage.User, []lockoutCounter, error) {
	now := s.now()
	// A username no user can have is not looked up (DynamoDB refuses keys
	// over 2 KiB); it fails like an unknown one, counted against the IP.
	lookup := req.Username
	if len(lookup) > MaxUsernameBytes {
		lookup = ""
	}
	counters := s.lockout.counters(lookup, req.ClientIP)
	user, found, read, err := s.store.GetUserAndCounters(ctx, lookup, keys(counters))
	if err != nil {
		return storage.User{}, nil, s.unavailable(ctx, "read user", err)
	}
	for i, c := range counters {
		if c.locked(read[i], now) {
			return storage.User{}, nil, s.refuse(ctx, req, c.subject+" is locked out")
		}
	}
	reason := "unknown user"
	if found {
		reason = s.checkUser(user, req)
	} else {
		// Do the work of a password check anyway, so the time taken does
		// not tell an attacker whether the username exists.
		password.VerifyDummy(req.Password)
	}
	if reason == "" {
		var failed []lockoutCounter
		for i, c := range counters {
			if c.subject == "user" && read[i].Count > 0 {
				failed = append(failed, c)
			}
		}
		return user, failed, nil
	}
	if err := s.recordFailure(ctx, counters, read, now); err != nil {
		return storage.User{}, nil, err
	}
	return storage.User{}, nil, s.refuse(ctx, req, reason)
}

// startSession creates a session and its first access token for a user
// who must still be active (ErrUnauthorized otherwise).
func (s *Service) startSession(ctx context.Context, username, clientID string, remember bool, resetCounters ...lockoutCounter) (Grant, error) {
	sessionID, tokenID := secret.New(), secret.New()
	session, token := s.newSession(sessionID, tokenID, username, clientID, remember, s.now())
	if err := s.store.CreateSession(ctx, session, token, keys(resetCounters)...); err != nil {
		return Grant{}, s.denied(ctx, "create session", err)
	}
	return Grant{SessionID: sessionID, AccessToken: tokenID, ExpiresIn: s.lifetimes.AccessToken, Remember: remember}, nil
}

// checkUser returns why user may not sign in with req, or "" if it may.
// The password is checked first so every refusal costs the same.
func (s *Service) checkUser(user storage.User, req SignInRequest) string {
	hash := user.PasswordHash
	if req.Check == WebServicesPassword {
		hash = user.WebServicesPasswordHash
	}
	if hash == "" {
		password.VerifyDummy(req.Password)
		return "no password of the required kind is set"
	}
	if !password.Slow(hash) {
		// A generated password's check is fast; add the slow work so a
		// refusal costs the same as for an unknown user, and timing does
		// not reveal which usernames exist.
		password.VerifyDummy(req.Password)
	}
	if ok, err := password.Verify(req.Password, hash); err != nil {
		return "stored password hash is malformed"
	} else if !ok || req.Password == "" {
		return "wrong password"
	}
	switch {
	case user.Status != storage.UserActive:
		return "user is " + string(user.Status)
	case !user.Superuser && !slices.Contains(user.Permissions, PermissionSignInDataAPI):
		return "user lacks the sign_in_data_api permission"
	}
	return ""
}

// CheckAccessToken reports whether an access token works now: it, its
// session and its user are all live. This is the Data API's global check.
func (s *Service) CheckAccessToken(ctx context.Context, accessToken string) error {
	_, _, err := s.store.ValidateAccessToken(ctx, secret.Hash(accessToken), s.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ErrUnauthorized
	case err != nil:
		return s.unavailable(ctx, "validate access token", err)
	}
	return nil
}

// IssueToken mints another access token for the session the credentials
// identify (a session id, or a live access token of the session). Older
// tokens keep working; the session's lifetime starts again.
func (s *Service) IssueToken(ctx context.Context, creds Credentials) (Token, error) {
	now := s.now()
	var (
		sessionHash, username, clientID, presented string
		remember                                   bool
	)
	switch {
	case creds.AccessTokenPresented:
		t, err := s.store.GetAccessToken(ctx, secret.Hash(creds.AccessToken), now)
		if err != nil {
			return Token{}, s.denied(ctx, "read access token", err)
		}
		sessionHash, username, clientID, remember, presented = t.SessionIDHash, t.Username, t.SessionClientID, t.SessionRemember, t.IDHash
	case creds.SessionID != "":
		sess, err := s.store.GetSession(ctx, secret.Hash(creds.SessionID), now)
		if err != nil {
			return Token{}, s.denied(ctx, "read session", err)
		}
		if (creds.SessionUser != "" && creds.SessionUser != sess.Username) ||
			(creds.SessionClientID != "" && creds.SessionClientID != sess.ClientID) {
			return Token{}, ErrUnauthorized
		}
		sessionHash, username, clientID, remember = sess.IDHash, sess.Username, sess.ClientID, sess.Remember
	default:
		return Token{}, ErrUnauthorized
	}
	tokenID := secret.New()
	err := s.store.AddAccessToken(ctx, storage.NewToken{
		Token:              s.newToken(tokenID, sessionHash, username, clientID, remember, now),
		SessionExpiresAt:   now.Add(s.sessionLifetime(remember)),
		PresentedTokenHash: presented,
	}, now)
	if err != nil {
		return Token{}, s.denied(ctx, "add access token", err)
	}
	return Token{AccessToken: tokenID, ExpiresIn: s.lifetimes.AccessToken}, nil
}

// RevokeToken ends one access token, the one presented. Its session and
// the session's other tokens live on.
func (s *Service) RevokeToken(ctx context.Context, creds Credentials) error {
	if !creds.AccessTokenPresented {
		return ErrUnauthorized
	}
	now := s.now()
	t, err := s.store.GetAccessToken(ctx, secret.Hash(creds.AccessToken), now)
	if err != nil {
		return s.denied(ctx, "read access token", err)
	}
	if err := s.store.DeleteAccessToken(ctx, t, now); err != nil {
		return s.denied(ctx, "delete access token", err)
	}
	s.log.InfoContext(ctx, "access token revoked", "event", "token_revoked", "user", t.Username, "clientId", t.SessionClientID)
	return nil
}

// SignOut ends the session the credentials identify, and with it every
// access token of the session, at once.
func (s *Service) SignOut(ctx context.Context, creds Credentials) error {
	now := s.now()
	var (
		sess      storage.Session
		presented string
	)
	switch {
	case creds.AccessTokenPresented:
		t, err := s.store.GetAccessToken(ctx, secret.Hash(creds.AccessToken), now)
		if err != nil {
			return s.denied(ctx, "read access token", err)
		}
		sess = storage.Session{IDHash: t.SessionIDHash, Username: t.Username, ClientID: t.SessionClientID}
		presented = t.IDHash
	case creds.SessionID != "":
		var err error
		if sess, err = s.store.GetSession(ctx, secret.Hash(creds.SessionID), now); err != nil {
			return s.denied(ctx, "read session", err)
		}
	default:
		return ErrUnauthorized
	}
	if err := s.store.DeleteSession(ctx, sess, presented, now); err != nil {
		return s.denied(ctx, "delete session", err)
	}
	s.log.InfoContext(ctx, "signed out", "event", "signed_out", "user", sess.Username, "clientId", sess.ClientID)
	return nil
}

// newSession returns the records of a new session and its first token.
func (s *Service) newSession(sessionID, tokenID, username, clientID string, remember bool, now time.Time) (storage.Session, storage.AccessToken) {
	session := storage.Session{
		IDHash: secret.Hash(sessionID), Username: username, ClientID: clientID, Remember: remember,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.sessionLifetime(remember)),
	}
	return session, s.newToken(tokenID, session.IDHash, username, clientID, remember, now)
}

func (s *Service) newToken(id, sessionHash, username, clientID string, remember bool, now time.Time) storage.AccessToken {
	return storage.AccessToken{
		IDHash: secret.Hash(id), SessionIDHash: sessionHash, Username: username, SessionRemember: remember, SessionClientID: clientID,
		CreatedAt: now, ExpiresAt: now.Add(s.lifetimes.AccessToken),
	}
}

func (s *Service) sessionLifetime(remember bool) time.Duration {
	if remember {
		return s.lifetimes.RememberedSession
	}
	return s.lifetimes.Session
}

func (s *Service) refuse(ctx context.Context, req SignInRequest, reason string) error {
	s.log.WarnContext(ctx, "sign-in refused", "event", "sign_in_refused", "reason", reason, "user", req.Username, "clientId", req.ClientID)
	return ErrInvalidLogin
}

// denied maps a storage error on a credential path: missing, expired or
// no longer valid records are ErrUnauthorized; anything else is an outage.
func (s *Service) denied(ctx context.Context, op string, err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrPreconditionFailed) {
		return ErrUnauthorized
	}
	return s.unavailable(ctx, op, err)
}

func (s *Service) unavailable(ctx context.Context, op string, err error) error {
	s.log.ErrorContext(ctx, "storage failure", "event", "storage_failure", "op", op, "error", err.Error())
	return fmt.Errorf("%w: %s", ErrUnavailable, op)
}
