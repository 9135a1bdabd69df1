package auth

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/mtauth/mtauth/pkg/storage"
)

// Lockout configures brute-force protection: UserLimit failed sign-ins of
// one username within UserInterval lock that username for UserInterval;
// IPLimit failures from one address within IPInterval lock the address.
// A limit of 0 turns that lockout off. Addresses matching IPWhitelist (a
// prefix such as "192.168." or a CIDR block) are never counted.
type Lockout struct {
	UserLimit    int
	UserInterval time.Duration
	IPLimit      int
	IPInterval   time.Duration
	IPWhitelist  []string
}

// lockoutCounter is one counter a sign-in consults.
type lockoutCounter struct {
	key      string
	limit    int
	interval time.Duration
	subject  string // "user" or "ip", for the audit log
}

// counters returns the counters that apply to a sign-in. The username's
// counter applies whether or not the user exists, so a lockout does not
// tell an attacker which usernames are real.
func (l Lockout) counters(username, ip string) []lockoutCounter {
	var cs []lockoutCounter
	if l.UserLimit > 0 && username != "" {
		cs = append(cs, lockoutCounter{key: userCounterKey(username), limit: l.UserLimit, interval: l.UserInterval, subject: "user"})
	}
	if l.IPLimit > 0 && ip != "" && !l.whitelisted(ip) {
		cs = append(cs, lockoutCounter{key: ipCounterKey(lockoutNetwork(ip)), limit: l.IPLimit, interval: l.IPInterval, subject: "ip"})
	}
	return cs
}

func (l Lockout) whitelisted(ip string) bool {
	addr, addrErr := netip.ParseAddr(ip)
	for _, entry := range l.IPWhitelist {
		if prefix, err := netip.ParsePrefix(entry); err == nil {
			if addrErr == nil && prefix.Contains(addr) {
				return true
			}
		} else if strings.HasPrefix(ip, entry) {
			return true
		}
	}
	return false
}

// lockoutNetwork is what the IP lockout counts under: the address itself
// for IPv4, and its /64 for IPv6, since one subscriber usually holds a
// whole /64 and could otherwise change address at every guess.
func lockoutNetwork(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Unmap().Is4() {
		return ip
	}
	return netip.PrefixFrom(addr.WithZone(""), 64).Masked().String()
}

func userCounterKey(username string) string { return "signin-failures:user:" + username }
func ipCounterKey(ip string) string         { return "signin-failures:ip:" + ip }

// locked reports whether a counter has reached its limit and the lockout
// that began with its latest failure is still running.
func (c lockoutCounter) locked(counter storage.Counter, now time.Time) bool {
	return counter.Count >= c.limit && now.Before(counter.LastAt.Add(c.interval))
}

func keys(cs []lockoutCounter) []string {
	ks := make([]string, len(cs))
	for i, c := range cs {
		ks[i] = c.key
	}
	return ks
}

// recordFailure counts a refused sign-in on every counter and logs each
// lockout it starts. A failure that cannot be counted is an outage: a
// refusal must never go uncounted.
func (s *Service) recordFailure(ctx context.Context, cs []lockoutCounter, read []storage.Counter, now time.Time) error {
	if len(cs) == 0 {
		return nil
	}
	incs := make([]storage.CounterIncrement, len(cs))
	for i, c := range cs {
		incs[i] = storage.CounterIncrement{Key: c.key, Window: c.interval, KeepFor: c.interval, WindowOpen: read[i].Count > 0 && now.Before(read[i].WindowEnds)}
	}
	counted, err := s.store.IncrementCounters(ctx, incs, now)
	if err != nil {
		return s.unavailable(ctx, "count failed sign-in", err)
	}
	for i, c := range cs {
		if counted[i].Count == c.limit {
			s.log.WarnContext(ctx, "locked out", "event", "locked_out", "subject", c.subject,
				"key", strings.TrimPrefix(c.key, "signin-failures:"), "failures", counted[i].Count, "until", now.Add(c.interval).UTC())
		}
	}
	return nil
}

// IPLockedOut reports whether sign-ins from ip are locked out now.
func (s *Service) IPLockedOut(ctx context.Context, ip string) (bool, error) {
	cs := s.lockout.counters("", ip)
	if len(cs) == 0 {
		return false, nil
	}
	_, _, read, err := s.store.GetUserAndCounters(ctx, "", keys(cs))
	if err != nil {
		return false, s.unavailable(ctx, "read lockout", err)
	}
	return cs[0].locked(read[0], s.now()), nil
}

// UnlockUser clears a username's failed sign-ins, ending its lockout.
func (s *Service) UnlockUser(ctx context.Context, username string) error {
	return s.store.DeleteCounter(ctx, userCounterKey(username))
}

// UnlockIP clears an address's failed sign-ins (for IPv6, its /64's),
// ending its lockout.
func (s *Service) UnlockIP(ctx context.Context, ip string) error {
	return s.store.DeleteCounter(ctx, ipCounterKey(lockoutNetwork(ip)))
}
