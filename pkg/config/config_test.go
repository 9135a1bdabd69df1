package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mtauth/mtauth/pkg/auth"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	s, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		TableName: "mtauth", AccessTokenTTL: time.Hour, SessionTimeout: 4 * time.Hour, RememberedSessionTimeout: 365 * 24 * time.Hour,
		CORS:    CORS{AllowMethods: "*", AllowHeaders: "X-MT-Authorization, X-Requested-With", ExposeHeaders: "X-MT-Next-Phase-URL"},
		Lockout: auth.Lockout{UserLimit: 6, UserInterval: 30 * time.Minute, IPLimit: 10, IPInterval: 30 * time.Minute},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("defaults = %+v, want %+v", s, want)
	}
}

func TestOverrides(t *testing.T) {
	s, err := FromEnv(env(map[string]string{"TABLE_NAME": "t", "MTAUTH_ACCESS_TOKEN_TTL": "60", "MTAUTH_USER_SESSION_TIMEOUT": "120", "MTAUTH_REMEMBERED_SESSION_TIMEOUT": "600"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.TableName != "t" || s.AccessTokenTTL != time.Minute || s.SessionTimeout != 2*time.Minute || s.RememberedSessionTimeout != 10*time.Minute {
		t.Fatalf("got %+v", s)
	}
}

func TestBadValuesAreAllReported(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"MTAUTH_ACCESS_TOKEN_TTL": "1h", "MTAUTH_USER_SESSION_TIMEOUT": "-5", "MTAUTH_REMEMBERED_SESSION_TIMEOUT": "0"}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, name := range []string{"MTAUTH_ACCESS_TOKEN_TTL", "MTAUTH_USER_SESSION_TIMEOUT", "MTAUTH_REMEMBERED_SESSION_TIMEOUT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestListsAndTheirChecks(t *testing.T) {
	s, err := FromEnv(env(map[string]string{
		"MTAUTH_REDIRECT_HOSTS":    " app.example.com, ,blog.example.com:8443 ",
		"MTAUTH_CORS_ALLOW_ORIGIN": "https://app.example.com,http://localhost:5173",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.RedirectHosts, []string{"app.example.com", "blog.example.com:8443"}) ||
		!reflect.DeepEqual(s.CORS.AllowOrigins, []string{"https://app.example.com", "http://localhost:5173"}) {
		t.Fatalf("got %+v", s)
	}
	for name, value := range map[string]string{
		"MTAUTH_REDIRECT_HOSTS":    "https://app.example.com/",
		"MTAUTH_CORS_ALLOW_ORIGIN": "app.example.com",
	} {
		if _, err := FromEnv(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v, want one naming the variable", name, value, err)
		}
	}
}

func TestLockoutSettings(t *testing.T) {
	s, err := FromEnv(env(map[string]string{
		"MTAUTH_USER_LOCKOUT_LIMIT": "0", "MTAUTH_IP_LOCKOUT_LIMIT": "3", "MTAUTH_IP_LOCKOUT_INTERVAL": "60",
		"MTAUTH_LOCKOUT_IP_WHITELIST": "192.168., 10.0.0.0/8",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Lockout{UserLimit: 0, UserInterval: 30 * time.Minute, IPLimit: 3, IPInterval: time.Minute, IPWhitelist: []string{"192.168.", "10.0.0.0/8"}}
	if !reflect.DeepEqual(s.Lockout, want) {
		t.Fatalf("lockout = %+v, want %+v", s.Lockout, want)
	}
	for name, value := range map[string]string{"MTAUTH_USER_LOCKOUT_LIMIT": "-1", "MTAUTH_IP_LOCKOUT_LIMIT": "many", "MTAUTH_LOCKOUT_IP_WHITELIST": "10.0.0.0/99"} {
		if _, err := FromEnv(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v", name, value, err)
		}
	}
}
