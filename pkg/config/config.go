// Package config reads mtauth's operator settings from the environment,
// the way Lambda hands them over, and checks them once at start-up so a
// bad value stops the function with a clear message instead of
// misbehaving later.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mtauth/mtauth/pkg/auth"
)

// Settings are the operator's choices. Names mirror Movable Type's
// configuration directives where one exists.
type Settings struct {
	// TableName is the DynamoDB table (TABLE_NAME).
	TableName string
	// AccessTokenTTL is how long an access token lives from creation
	// (MTAUTH_ACCESS_TOKEN_TTL, Movable Type's AccessTokenTTL).
	AccessTokenTTL time.Duration
	// SessionTimeout is how long a session lives after its last use
	// (MTAUTH_USER_SESSION_TIMEOUT, Movable Type's UserSessionTimeout).
	SessionTimeout time.Duration
	// RememberedSessionTimeout replaces SessionTimeout for sessions signed
	// in with "remember" (MTAUTH_REMEMBERED_SESSION_TIMEOUT).
	RememberedSessionTimeout time.Duration
	// RedirectHosts are the hosts besides the API's own that the browser
	// sign-in may redirect to (MTAUTH_REDIRECT_HOSTS; Movable Type allows
	// its sites' hosts).
	RedirectHosts []string
	// CORS mirrors Movable Type's DataAPICORS* directives.
	CORS CORS
	// Lockout mirrors Movable Type's lockout directives, for every version:
	// MTAUTH_USER_LOCKOUT_LIMIT (UserLockoutLimit), MTAUTH_USER_LOCKOUT_INTERVAL
	// (UserLockoutInterval), MTAUTH_IP_LOCKOUT_LIMIT (IPLockoutLimit),
	// MTAUTH_IP_LOCKOUT_INTERVAL (IPLockoutInterval), and
	// MTAUTH_LOCKOUT_IP_WHITELIST (LockoutIPWhitelist).
	Lockout auth.Lockout
	// LogLevel is the least severe level logged (MTAUTH_LOG_LEVEL).
	LogLevel slog.Level
}

// CORS holds the cross-origin settings. No allowed origin turns CORS off.
type CORS struct {
	AllowOrigins  []string // MTAUTH_CORS_ALLOW_ORIGIN: "*" or exact origins
	AllowMethods  string   // MTAUTH_CORS_ALLOW_METHODS
	AllowHeaders  string   // MTAUTH_CORS_ALLOW_HEADERS
	ExposeHeaders string   // MTAUTH_CORS_EXPOSE_HEADERS
}

// Variable describes one environment variable: its name, default and
// meaning, for --help and the README as much as for parsing.
type Variable struct {
	Name, Default, Help string
}

// Variables lists every setting mtauth reads, in the order people look
// for them.
var Variables = []Variable{
	{"TABLE_NAME", "mtauth", "DynamoDB table holding users, sessions and tokens"},
	{"MTAUTH_ACCESS_TOKEN_TTL", "3600", "access token lifetime in seconds, from creation"},
	{"MTAUTH_USER_SESSION_TIMEOUT", "14400", "session lifetime in seconds after its last use"},
	{"MTAUTH_REMEMBERED_SESSION_TIMEOUT", "31536000", "lifetime of a remembered session in seconds after its last use"},
	{"MTAUTH_LOG_LEVEL", "info", "least severe log level written: debug, info, warn or error"},
	{"MTAUTH_USER_LOCKOUT_LIMIT", "6", "failed sign-ins of one user, within the interval, that lock the user out; 0 disables"},
	{"MTAUTH_USER_LOCKOUT_INTERVAL", "1800", "seconds in which user failures count, and how long the lockout lasts"},
	{"MTAUTH_IP_LOCKOUT_LIMIT", "10", "failed sign-ins from one IP address, within the interval, that lock the address out; 0 disables"},
	{"MTAUTH_IP_LOCKOUT_INTERVAL", "1800", "seconds in which IP failures count, and how long the lockout lasts"},
	{"MTAUTH_LOCKOUT_IP_WHITELIST", "", "comma-separated IP prefixes (192.168.) or CIDR blocks never locked out"},
	{"MTAUTH_REDIRECT_HOSTS", "", "comma-separated hosts the browser sign-in may redirect to, besides the API's own"},
	{"MTAUTH_CORS_ALLOW_ORIGIN", "", "comma-separated origins allowed cross-origin requests, or *; empty turns CORS off"},
	{"MTAUTH_CORS_ALLOW_METHODS", "*", "Access-Control-Allow-Methods for allowed origins"},
	{"MTAUTH_CORS_ALLOW_HEADERS", "X-MT-Authorization, X-Requested-With", "Access-Control-Allow-Headers for allowed origins"},
	{"MTAUTH_CORS_EXPOSE_HEADERS", "X-MT-Next-Phase-URL", "Access-Control-Expose-Headers for allowed origins"},
}

// list splits a comma-separated setting, dropping blanks.
func list(v string) []string {
	var items []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// FromEnv reads the settings through getenv (os.Getenv in production),
// using the defaults above for unset variables. It reports every bad
// value at once.
func FromEnv(getenv func(string) string) (Settings, error) {
	value := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		for _, v := range Variables {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []error
	seconds := func(name string) time.Duration {
		raw := value(name)
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 || n > 10*365*24*3600 {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number of seconds between 1 and 315360000", name, raw))
			return 0
		}
		return time.Duration(n) * time.Second
	}
	count := func(name string) int {
		raw := value(name)
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > 1000000 {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from 0 (off) to 1000000", name, raw))
			return 0
		}
		return n
	}
	s := Settings{
		TableName:                value("TABLE_NAME"),
		AccessTokenTTL:           seconds("MTAUTH_ACCESS_TOKEN_TTL"),
		SessionTimeout:           seconds("MTAUTH_USER_SESSION_TIMEOUT"),
		RememberedSessionTimeout: seconds("MTAUTH_REMEMBERED_SESSION_TIMEOUT"),
		RedirectHosts:            list(value("MTAUTH_REDIRECT_HOSTS")),
		Lockout: auth.Lockout{
			UserLimit:    count("MTAUTH_USER_LOCKOUT_LIMIT"),
			UserInterval: seconds("MTAUTH_USER_LOCKOUT_INTERVAL"),
			IPLimit:      count("MTAUTH_IP_LOCKOUT_LIMIT"),
			IPInterval:   seconds("MTAUTH_IP_LOCKOUT_INTERVAL"),
			IPWhitelist:  list(value("MTAUTH_LOCKOUT_IP_WHITELIST")),
		},
		CORS: CORS{
			AllowOrigins:  list(value("MTAUTH_CORS_ALLOW_ORIGIN")),
			AllowMethods:  value("MTAUTH_CORS_ALLOW_METHODS"),
			AllowHeaders:  value("MTAUTH_CORS_ALLOW_HEADERS"),
			ExposeHeaders: value("MTAUTH_CORS_EXPOSE_HEADERS"),
		},
	}
	if err := s.LogLevel.UnmarshalText([]byte(value("MTAUTH_LOG_LEVEL"))); err != nil {
		errs = append(errs, fmt.Errorf("MTAUTH_LOG_LEVEL=%q: want debug, info, warn or error", value("MTAUTH_LOG_LEVEL")))
	}
	for _, host := range s.RedirectHosts {
		if strings.ContainsAny(host, "/@\\ ") {
			errs = append(errs, fmt.Errorf("MTAUTH_REDIRECT_HOSTS: %q is not a host name (write app.example.com, not a URL)", host))
		}
	}
	for _, entry := range s.Lockout.IPWhitelist {
		if _, err := netip.ParsePrefix(entry); strings.Contains(entry, "/") && err != nil {
			errs = append(errs, fmt.Errorf("MTAUTH_LOCKOUT_IP_WHITELIST: %q is not a CIDR block", entry))
		}
	}
	for _, origin := range s.CORS.AllowOrigins {
		if origin != "*" && !strings.Contains(origin, "://") {
			errs = append(errs, fmt.Errorf("MTAUTH_CORS_ALLOW_ORIGIN: %q is not an origin (write https://app.example.com, or *)", origin))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, fmt.Errorf("invalid settings: %w", err)
	}
	return s, nil
}
