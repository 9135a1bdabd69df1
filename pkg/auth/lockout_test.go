package auth

import (
	"testing"
	"time"

	"github.com/mtauth/mtauth/pkg/storage"
)

func TestLockoutCounters(t *testing.T) {
	l := Lockout{UserLimit: 6, UserInterval: time.Hour, IPLimit: 10, IPInterval: time.Minute,
		IPWhitelist: []string{"192.168.", "10.0.0.0/8", "2001:db8::/32"}}
	tests := []struct {
		user, ip string
		want     []string
	}{
		{"melody", "198.51.100.1", []string{"signin-failures:user:melody", "signin-failures:ip:198.51.100.1"}},
		{"melody", "192.168.1.1", []string{"signin-failures:user:melody"}}, // prefix
		{"melody", "10.20.30.40", []string{"signin-failures:user:melody"}}, // CIDR
		{"melody", "2001:db8::1", []string{"signin-failures:user:melody"}}, // IPv6 CIDR
		{"melody", "11.0.0.1", []string{"signin-failures:user:melody", "signin-failures:ip:11.0.0.1"}},
		{"", "198.51.100.1", []string{"signin-failures:ip:198.51.100.1"}},
		{"melody", "", []string{"signin-failures:user:melody"}},
	}
	for _, tt := range tests {
		got := keys(l.counters(tt.user, tt.ip))
		if len(got) != len(tt.want) {
			t.Errorf("counters(%q, %q) = %v, want %v", tt.user, tt.ip, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("counters(%q, %q) = %v, want %v", tt.user, tt.ip, got, tt.want)
			}
		}
	}
	if got := (Lockout{}).counters("melody", "198.51.100.1"); len(got) != 0 {
		t.Errorf("limits of 0 still count: %v", got)
	}
}

func TestLocked(t *testing.T) {
	c := lockoutCounter{limit: 3, interval: 30 * time.Minute}
	last := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		count int
		now   time.Time
		want  bool
	}{
		{2, last, false},
		{3, last, true},
		{3, last.Add(30*time.Minute - time.Second), true},
		{3, last.Add(30 * time.Minute), false},
		{9, last.Add(time.Minute), true},
	} {
		if got := c.locked(storage.Counter{Count: tt.count, LastAt: last}, tt.now); got != tt.want {
			t.Errorf("count %d at +%v: locked = %v, want %v", tt.count, tt.now.Sub(last), got, tt.want)
		}
	}
}
