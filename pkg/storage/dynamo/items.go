package dynamo

import (
	"time"

	"github.com/mtauth/mtauth/pkg/storage"
)

// Key prefixes of the single table's partition key. Each kind of record
// lives under its own prefix, so one GetItem by key serves every lookup.
const (
	userPrefix    = "USER#"
	sessionPrefix = "SESSION#"
	tokenPrefix   = "TOKEN#"
	oneTimePrefix = "OTT#"
	counterPrefix = "COUNTER#"
)

// Attribute names shared by the code, conditions and template.yaml.
const (
	// KeyAttribute is the table's partition (hash) key.
	KeyAttribute = "pk"
	// TTLAttribute holds the expiry in epoch seconds (a Number) on every
	// record that expires; the table's TimeToLiveSpecification names it.
	TTLAttribute = "ttl"
)

// Record kinds, in the "kind" attribute, so a scan can tell them apart.
const (
	kindUser    = "user"
	kindSession = "session"
	kindToken   = "token"
	kindOneTime = "oneTimeToken"
	kindCounter = "counter"
)

type userItem struct {
	PK                      string   `dynamodbav:"pk"`
	Kind                    string   `dynamodbav:"kind"`
	ID                      string   `dynamodbav:"id"`
	Username                string   `dynamodbav:"username"`
	DisplayName             string   `dynamodbav:"displayName,omitempty"`
	Email                   string   `dynamodbav:"email,omitempty"`
	Status                  string   `dynamodbav:"status"`
	Superuser               bool     `dynamodbav:"superuser"`
	Permissions             []string `dynamodbav:"permissions"`
	PasswordHash            string   `dynamodbav:"passwordHash,omitempty"`
	WebServicesPasswordHash string   `dynamodbav:"webServicesPasswordHash,omitempty"`
	CreatedAt               int64    `dynamodbav:"createdAt"`
	UpdatedAt               int64    `dynamodbav:"updatedAt"`
}

type sessionItem struct {
	PK         string `dynamodbav:"pk"`
	Kind       string `dynamodbav:"kind"`
	Username   string `dynamodbav:"username"`
	ClientID   string `dynamodbav:"clientId"`
	Remember   bool   `dynamodbav:"remember"`
	CreatedAt  int64  `dynamodbav:"createdAt"`
	LastUsedAt int64  `dynamodbav:"lastUsedAt"`
	TTL        int64  `dynamodbav:"ttl"`
}

type tokenItem struct {
	PK          string `dynamodbav:"pk"`
	Kind        string `dynamodbav:"kind"`
	SessionHash string `dynamodbav:"sessionIdHash"`
	Username    string `dynamodbav:"username"`
	Remember    bool   `dynamodbav:"sessionRemember"`
	ClientID    string `dynamodbav:"clientId,omitempty"`
	CreatedAt   int64  `dynamodbav:"createdAt"`
	TTL         int64  `dynamodbav:"ttl"`
}

func userKey(username string) string    { return userPrefix + username }
func sessionKey(idHash string) string   { return sessionPrefix + idHash }
func counterKey(key string) string      { return counterPrefix + key }
func oneTimeKey(idHash string) string   { return oneTimePrefix + idHash }
func tokenKey(idHash string) string     { return tokenPrefix + idHash }
func epoch(t time.Time) int64           { return t.Unix() }
func fromEpoch(seconds int64) time.Time { return time.Unix(seconds, 0).UTC() }

// live reports whether a record with this expiry is still usable at now.
// The same rule is written as "ttl > :now" in every condition expression.
func live(ttl int64, now time.Time) bool { return ttl > now.Unix() }

func newUserItem(u storage.User) userItem {
	perms := u.Permissions
	if perms == nil {
		perms = []string{}
	}
	return userItem{
		PK: userKey(u.Username), Kind: kindUser, ID: u.ID, Username: u.Username,
		DisplayName: u.DisplayName, Email: u.Email, Status: string(u.Status),
		Superuser: u.Superuser, Permissions: perms,
		PasswordHash: u.PasswordHash, WebServicesPasswordHash: u.WebServicesPasswordHash,
		CreatedAt: epoch(u.CreatedAt), UpdatedAt: epoch(u.UpdatedAt),
	}
}

func (i userItem) user() storage.User {
	return storage.User{
		ID: i.ID, Username: i.Username, DisplayName: i.DisplayName, Email: i.Email,
		Status: storage.UserStatus(i.Status), Superuser: i.Superuser, Permissions: i.Permissions,
		PasswordHash: i.PasswordHash, WebServicesPasswordHash: i.WebServicesPasswordHash,
		CreatedAt: fromEpoch(i.CreatedAt), UpdatedAt: fromEpoch(i.UpdatedAt),
	}
}

func newSessionItem(s storage.Session) sessionItem {
	return sessionItem{
		PK: sessionKey(s.IDHash), Kind: kindSession, Username: s.Username, ClientID: s.ClientID,
		Remember: s.Remember, CreatedAt: epoch(s.CreatedAt), LastUsedAt: epoch(s.LastUsedAt),
		TTL: epoch(s.ExpiresAt),
	}
}

func (i sessionItem) session(idHash string) storage.Session {
	return storage.Session{
		IDHash: idHash, Username: i.Username, ClientID: i.ClientID, Remember: i.Remember,
		CreatedAt: fromEpoch(i.CreatedAt), LastUsedAt: fromEpoch(i.LastUsedAt), ExpiresAt: fromEpoch(i.TTL),
	}
}

func newTokenItem(t storage.AccessToken) tokenItem {
	return tokenItem{
		PK: tokenKey(t.IDHash), Kind: kindToken, SessionHash: t.SessionIDHash, Username: t.Username,
		Remember: t.SessionRemember, ClientID: t.SessionClientID, CreatedAt: epoch(t.CreatedAt), TTL: epoch(t.ExpiresAt),
	}
}

func (i tokenItem) token(idHash string) storage.AccessToken {
	return storage.AccessToken{
		IDHash: idHash, SessionIDHash: i.SessionHash, Username: i.Username, SessionRemember: i.Remember, SessionClientID: i.ClientID,
		CreatedAt: fromEpoch(i.CreatedAt), ExpiresAt: fromEpoch(i.TTL),
	}
}

type oneTimeItem struct {
	PK       string `dynamodbav:"pk"`
	Kind     string `dynamodbav:"kind"`
	Username string `dynamodbav:"username"`
	ClientID string `dynamodbav:"clientId"`
	Remember bool   `dynamodbav:"remember"`
	TTL      int64  `dynamodbav:"ttl"`
}

func newOneTimeItem(t storage.OneTimeToken) oneTimeItem {
	return oneTimeItem{
		PK: oneTimeKey(t.IDHash), Kind: kindOneTime, Username: t.Username, ClientID: t.ClientID,
		Remember: t.Remember, TTL: epoch(t.ExpiresAt),
	}
}

func (i oneTimeItem) oneTimeToken(idHash string) storage.OneTimeToken {
	return storage.OneTimeToken{
		IDHash: idHash, Username: i.Username, ClientID: i.ClientID, Remember: i.Remember, ExpiresAt: fromEpoch(i.TTL),
	}
}

type counterItem struct {
	PK         string `dynamodbav:"pk"`
	Kind       string `dynamodbav:"kind"`
	Count      int    `dynamodbav:"count"`
	WindowEnds int64  `dynamodbav:"windowEnds"`
	LastAt     int64  `dynamodbav:"lastAt"`
	TTL        int64  `dynamodbav:"ttl"`
}

func (i counterItem) counter(key string) storage.Counter {
	c := storage.Counter{Key: key, Count: i.Count}
	if i.Count > 0 {
		c.WindowEnds, c.LastAt = fromEpoch(i.WindowEnds), fromEpoch(i.LastAt)
	}
	return c
}
