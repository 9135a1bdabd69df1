package localapi

import (
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
)

// Route sends requests with Method on Resource to a function. Resource
// uses API Gateway's syntax: "/{version}/token" matches one segment per
// {param}; "/{proxy+}" matches one or more remaining segments. Method
// "ANY" matches every verb not given a route of its own on the same
// resource.
type Route struct {
	Method   string
	Resource string
	Function string
	// Instance returns a new instance of the function's handler. Like a
	// Lambda function instance, one serves one invocation at a time (the
	// Lambda library reuses its response buffer), so the gateway runs
	// concurrent requests on separate instances and reuses idle ones, as
	// Lambda does. Routes of one Function share its instances.
	Instance func() lambda.Handler
}

// Match finds the route API Gateway would pick for a request, and the
// path parameters it would send. Like API Gateway, it first picks the
// resource: of those matching the path, the most specific, comparing
// segments left to right (a literal beats a {variable}, which beats a
// {greedy+}). Then, on that resource, the route for the request's verb,
// else its ANY route. A resource with neither is not skipped for a less
// specific one: API Gateway answers such a request with its own
// MISSING_AUTHENTICATION_TOKEN, and so does Match, by returning false.
func (g *Gateway) Match(method, path string) (Route, map[string]string, bool) {
	var (
		found      bool
		best       string
		bestRank   []int
		bestParams map[string]string
	)
	for _, rt := range g.Routes {
		params, rank, ok := matchResource(rt.Resource, path)
		if !ok || (found && !moreSpecific(rank, bestRank)) {
			continue
		}
		found, best, bestRank, bestParams = true, rt.Resource, rank, params
	}
	if !found {
		return Route{}, nil, false
	}
	var anyRoute *Route
	for i, rt := range g.Routes {
		switch {
		case rt.Resource != best:
		case rt.Method == method:
			return rt, bestParams, true
		case rt.Method == "ANY" && anyRoute == nil:
			anyRoute = &g.Routes[i]
		}
	}
	if anyRoute == nil {
		return Route{}, nil, false
	}
	return *anyRoute, bestParams, true
}

// Ranks of a resource's segments, for specificity.
const (
	rankGreedy = iota
	rankVariable
	rankLiteral
)

// matchResource matches a path against a resource. It returns the path
// parameters (nil when there are none, as API Gateway sends null) and the
// rank of each segment.
func matchResource(resource, path string) (params map[string]string, rank []int, ok bool) {
	want := segments(resource)
	got := segments(path)
	for i, seg := range want {
		name, isVar := strings.CutPrefix(seg, "{")
		name, _ = strings.CutSuffix(name, "}")
		greedyName, isGreedy := strings.CutSuffix(name, "+")
		switch {
		case isVar && isGreedy:
			if i >= len(got) {
				return nil, nil, false
			}
			params = withParam(params, greedyName, strings.Join(got[i:], "/"))
			return params, append(rank, rankGreedy), true
		case i >= len(got):
			return nil, nil, false
		case isVar && got[i] == "":
			return nil, nil, false
		case isVar:
			params = withParam(params, name, got[i])
			rank = append(rank, rankVariable)
		case seg == got[i]:
			rank = append(rank, rankLiteral)
		default:
			return nil, nil, false
		}
	}
	if len(want) != len(got) {
		return nil, nil, false
	}
	return params, rank, true
}

// segments splits a path into its segments; "/" has none. A trailing
// slash is ignored, as API Gateway ignores it.
func segments(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

func withParam(params map[string]string, name, value string) map[string]string {
	if params == nil {
		params = map[string]string{}
	}
	params[name] = value
	return params
}

// moreSpecific reports whether rank a beats rank b, segment by segment.
func moreSpecific(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}
