package dataapi

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Endpoint is one Data API endpoint: Movable Type's endpoint id, its verb
// and its path after the version segment.
type Endpoint struct {
	ID     string
	Method string
	Path   string
}

// The endpoints mtauth serves, with Movable Type's ids.
var (
	Authorize            = Endpoint{"authorize", http.MethodGet, "/authorization"}
	Authenticate         = Endpoint{"authenticate", http.MethodPost, "/authentication"}
	RevokeAuthentication = Endpoint{"revoke_authentication", http.MethodDelete, "/authentication"}
	GetToken             = Endpoint{"get_token", http.MethodPost, "/token"}
	RevokeToken          = Endpoint{"revoke_token", http.MethodDelete, "/token"}
)

// Endpoints lists every endpoint.
var Endpoints = []Endpoint{Authorize, Authenticate, RevokeAuthentication, GetToken, RevokeToken}

// MinVersion and MaxVersion bound the Data API versions served.
const (
	MinVersion = 1
	MaxVersion = 7
)

// versionSegment is exactly one digit in range: v07 and v4x are invalid.
var versionSegment = regexp.MustCompile(`^v[1-7]$`)

// route is a request path taken apart.
type route struct {
	version int
	path    string // after the version, without a trailing ".json"
}

// parseRoute splits /v{N}/rest. A first segment that does not start with
// "v" means the version is missing; one that does but is not v1..v7 is an
// invalid version.
func parseRoute(urlPath string) (route, *apiError) {
	first, rest, _ := strings.Cut(strings.TrimPrefix(urlPath, "/"), "/")
	if !strings.HasPrefix(first, "v") {
		return route{}, errVersionRequired
	}
	if !versionSegment.MatchString(first) {
		return route{}, errVersionInvalid
	}
	return route{version: int(first[1] - '0'), path: "/" + strings.TrimSuffix(rest, ".json")}, nil
}

// methodsFor returns the verbs defined on a path, sorted as in Movable
// Type's Allow header; nil for an unknown path.
func methodsFor(path string) []string {
	var methods []string
	for _, ep := range Endpoints {
		if ep.Path == path {
			methods = append(methods, ep.Method)
		}
	}
	slices.Sort(methods)
	return methods
}

func lookup(method, path string) (Endpoint, bool) {
	for _, ep := range Endpoints {
		if ep.Method == method && ep.Path == path {
			return ep, true
		}
	}
	return Endpoint{}, false
}
