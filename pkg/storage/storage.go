// Package storage defines how mtauth keeps users, sessions and access
// tokens, independent of any database, and the errors every backend returns.
//
// Secrets never reach this package in clear: sessions and access tokens are
// addressed by the hash of their secret. Every record that expires carries
// its expiry, and every read treats an expired record as missing, because
// a database's own expiry (DynamoDB TTL) may lag by days.
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them, so callers test with errors.Is.
var (
	// ErrNotFound: the record does not exist or has expired.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a create found a record under the same key.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrPreconditionFailed: a write was refused because something it
	// required (a live session, a live token, an active user) no longer
	// held when it was applied. Nothing was written.
	ErrPreconditionFailed = errors.New("storage: precondition failed")
	// ErrUnavailable: the database could not be reached or refused the
	// request (throttling, timeouts, server errors). Nothing can be said
	// about the record; callers should answer "try again".
	ErrUnavailable = errors.New("storage: unavailable")
)

// UserStatus is the life-cycle state of a user account.
type UserStatus string

// User statuses. Only active users may sign in or keep using sessions.
const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
	UserPending  UserStatus = "pending"
)

// User is a person who may sign in.
type User struct {
	ID          string
	Username    string // exact, case-sensitive
	DisplayName string
	Email       string
	Status      UserStatus
	Superuser   bool
	// Permissions lists named grants, such as "sign_in_data_api".
	Permissions []string
	// PasswordHash and WebServicesPasswordHash are encoded password
	// hashes (see package password); empty means no password is set.
	PasswordHash            string
	WebServicesPasswordHash string
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// Session is a signed-in user's session, addressed by the hash of its id.
type Session struct {
	IDHash    string
	Username  string
	ClientID  string
	Remember  bool
	CreatedAt time.Time
	// LastUsedAt and ExpiresAt move forward each time the session is used.
	LastUsedAt time.Time
	ExpiresAt  time.Time
}

// AccessToken is a short-lived bearer token that belongs to one session.
type AccessToken struct {
	IDHash        string
	SessionIDHash string
	Username      string
	// SessionRemember and SessionClientID are copied from the session,
	// which never changes them, so a token alone tells how far using it
	// extends the session, and which client it serves.
	SessionRemember bool
	SessionClientID string
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// OneTimeToken is a browser sign-in waiting to be collected by an app on
// another host: whoever presents the token once, before it expires, gets
// a session for the user.
type OneTimeToken struct {
	IDHash    string
	Username  string
	ClientID  string
	Remember  bool
	ExpiresAt time.Time
}

// Counter counts events under a key within a window, such as failed
// sign-ins of one user or from one IP address.
type Counter struct {
	Key   string
	Count int
	// WindowEnds is when the window opened by the first counted event
	// closes; LastAt is the latest event.
	WindowEnds time.Time
	LastAt     time.Time
}

// CounterIncrement asks to count one event under Key. If Key has no open
// window, a new one of length Window opens with this event; the record is
// kept for KeepFor after the event.
type CounterIncrement struct {
	Key     string
	Window  time.Duration
	KeepFor time.Duration
	// WindowOpen is what the caller last read (a hint): guessing right
	// saves the backend a retry.
	WindowOpen bool
}

// NewToken describes an access token to add to an existing session, and
// what must hold for it to be added.
type NewToken struct {
	Token AccessToken
	// SessionExpiresAt is the session's new expiry: minting counts as use.
	SessionExpiresAt time.Time
	// PresentedTokenHash, if set, is the access token the request was
	// authorised with; it must still be live when the new token is stored.
	PresentedTokenHash string
}

// Store keeps users, sessions and access tokens.
//
// Every method takes now, the caller's clock, to decide expiry, so that
// tests control time and every backend agrees on it.
type Store interface {
	// CreateUser stores a new user; ErrAlreadyExists if the username is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser replaces an existing user; ErrNotFound if there is none.
	UpdateUser(ctx context.Context, u User) error
	// GetUser returns the user with exactly this username.
	GetUser(ctx context.Context, username string) (User, error)
	// ListUsers returns every user, ordered by username.
	ListUsers(ctx context.Context) ([]User, error)

	// GetUserAndCounters reads a user and counters in one consistent
	// snapshot. found is false when there is no such user (or username is
	// empty); a counter that does not exist comes back with Count 0.
	GetUserAndCounters(ctx context.Context, username string, counterKeys []string) (u User, found bool, counters []Counter, err error)
	// IncrementCounters counts one event under each key, atomically per
	// key (concurrent increments are never lost), and returns the counters
	// after the increment.
	IncrementCounters(ctx context.Context, incs []CounterIncrement, now time.Time) ([]Counter, error)
	// DeleteCounter removes a counter; deleting a missing one is no error.
	DeleteCounter(ctx context.Context, key string) error

	// CreateSession stores a new session together with its first access
	// token, both or neither, and in the same step deletes the counters
	// named in resetCounters.
	CreateSession(ctx context.Context, s Session, first AccessToken, resetCounters ...string) error
	// GetSession returns a live session; ErrNotFound if missing or expired.
	GetSession(ctx context.Context, idHash string, now time.Time) (Session, error)
	// GetAccessToken returns a live token; ErrNotFound if missing or
	// expired. It does not look at the token's session or user.
	GetAccessToken(ctx context.Context, idHash string, now time.Time) (AccessToken, error)
	// ValidateAccessToken returns the token when it, its session and its
	// user are all live and active at once; ErrNotFound otherwise.
	ValidateAccessToken(ctx context.Context, idHash string, now time.Time) (AccessToken, Session, error)

	// AddAccessToken stores t.Token in its live session, extending the
	// session, provided the session and its user are live and active and
	// t.PresentedTokenHash (if any) is live. ErrPreconditionFailed otherwise.
	AddAccessToken(ctx context.Context, t NewToken, now time.Time) error
	// DeleteAccessToken removes one live token, provided its session and
	// user are live and active. ErrPreconditionFailed otherwise.
	DeleteAccessToken(ctx context.Context, t AccessToken, now time.Time) error
	// DeleteSession removes a live session, which at once ends every
	// access token of it, provided its user is active and
	// presentedTokenHash (if any) is live. ErrPreconditionFailed otherwise.
	DeleteSession(ctx context.Context, s Session, presentedTokenHash string, now time.Time) error

	// CreateOneTimeToken stores a one-time token, and in the same step
	// deletes the counters named in resetCounters; ErrAlreadyExists (and
	// nothing changed) if its hash is taken.
	CreateOneTimeToken(ctx context.Context, t OneTimeToken, resetCounters ...string) error
	// GetOneTimeToken returns a live one-time token without spending it;
	// ErrNotFound if missing, expired or already exchanged.
	GetOneTimeToken(ctx context.Context, idHash string, now time.Time) (OneTimeToken, error)
	// CreateSessionFromOneTimeToken stores a session with its first token
	// and deletes the one-time token, all or nothing: ErrPreconditionFailed
	// if the one-time token is no longer live (so of concurrent exchanges
	// exactly one succeeds) or the user is not active.
	CreateSessionFromOneTimeToken(ctx context.Context, oneTimeHash string, s Session, first AccessToken, now time.Time) error
}
