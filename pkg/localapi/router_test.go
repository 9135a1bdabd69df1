package localapi

import (
	"maps"
	"testing"
)

// The routes of mtauth's template, in the order a template may list them:
// the catch-all first.
var templateRoutes = []Route{
	{Method: "ANY", Resource: "/", Function: "CatchAll"},
	{Method: "ANY", Resource: "/{version}", Function: "CatchAll"},
	{Method: "ANY", Resource: "/{version}/{proxy+}", Function: "CatchAll"},
	{Method: "ANY", Resource: "/{version}/token", Function: "CatchAll"},
	{Method: "POST", Resource: "/{version}/token", Function: "GetToken"},
	{Method: "DELETE", Resource: "/{version}/token", Function: "RevokeToken"},
	{Method: "POST", Resource: "/{version}/authentication", Function: "Authenticate"},
}

func TestMatchPicksTheMostSpecificResourceThenTheVerb(t *testing.T) {
	g := &Gateway{Routes: templateRoutes}
	for _, tc := range []struct {
		method, path       string
		function, resource string
		params             map[string]string
	}{
		{"POST", "/v7/token", "GetToken", "/{version}/token", map[string]string{"version": "v7"}},
		{"DELETE", "/v7/token", "RevokeToken", "/{version}/token", map[string]string{"version": "v7"}},
		// ANY takes the verbs nobody else has on the resource.
		{"GET", "/v7/token", "CatchAll", "/{version}/token", map[string]string{"version": "v7"}},
		{"OPTIONS", "/v7/token", "CatchAll", "/{version}/token", map[string]string{"version": "v7"}},
		// A literal segment beats the greedy one; the greedy one takes the rest.
		{"POST", "/v7/token.json", "CatchAll", "/{version}/{proxy+}", map[string]string{"version": "v7", "proxy": "token.json"}},
		{"GET", "/v7/a/b/c", "CatchAll", "/{version}/{proxy+}", map[string]string{"version": "v7", "proxy": "a/b/c"}},
		{"POST", "/v7/token/", "GetToken", "/{version}/token", map[string]string{"version": "v7"}},
		{"GET", "/v7", "CatchAll", "/{version}", map[string]string{"version": "v7"}},
		// The root has no path parameters: API Gateway sends null.
		{"GET", "/", "CatchAll", "/", nil},
	} {
		route, params, ok := g.Match(tc.method, tc.path)
		if !ok || route.Function != tc.function || route.Resource != tc.resource || !maps.Equal(params, tc.params) {
			t.Errorf("%s %s: %v %s %s %v, want %s %s %v", tc.method, tc.path, ok, route.Function, route.Resource, params, tc.function, tc.resource, tc.params)
		}
	}
}

// API Gateway does not fall back to a less specific resource when the
// matching one lacks the verb: that is MISSING_AUTHENTICATION_TOKEN.
func TestMatchDoesNotFallBackToALessSpecificResource(t *testing.T) {
	g := &Gateway{Routes: []Route{
		{Method: "ANY", Resource: "/{proxy+}", Function: "CatchAll"},
		{Method: "POST", Resource: "/token", Function: "GetToken"},
	}}
	if route, _, ok := g.Match("GET", "/token"); ok {
		t.Errorf("GET /token matched %s %s, want no route", route.Method, route.Resource)
	}
	if _, _, ok := g.Match("GET", "/"); ok {
		t.Error("GET / matched, but no resource is /")
	}
	if route, _, ok := g.Match("GET", "/other"); !ok || route.Function != "CatchAll" {
		t.Errorf("GET /other: %v %s, want CatchAll", ok, route.Function)
	}
}

func TestMatchRefusesEmptySegments(t *testing.T) {
	g := &Gateway{Routes: templateRoutes}
	if route, _, ok := g.Match("POST", "/v7//token"); ok && route.Resource == "/{version}/token" {
		t.Errorf("an empty segment matched %s", route.Resource)
	}
}
