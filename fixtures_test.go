package mtauth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/eventfixture"
	"github.com/mtauth/mtauth/pkg/localapi"
	"github.com/mtauth/mtauth/pkg/samtemplate"
)

// fixture is one events/<function>-<case>.json.
type fixture struct {
	name     string // file name without .json
	pkg      string // <function>: the code package, functions/<pkg>
	function string // the template's logical id of that function
	raw      []byte
}

// loadFixtures reads every event in events/ (env.json is sam local's
// environment file, not an event) and finds its function.
func loadFixtures(t *testing.T, tpl *samtemplate.Template) []fixture {
	t.Helper()
	files, err := filepath.Glob("events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	byPackage := map[string]string{}
	for _, f := range tpl.Functions {
		byPackage[path.Base(f.GoPackage())] = f.LogicalID
	}
	var out []fixture
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		if name == "env" {
			continue
		}
		pkg, _, ok := strings.Cut(name, "-")
		function := byPackage[pkg]
		if !ok || function == "" {
			t.Errorf("%s: not named <function>-<case>.json with <function> one of %v", file, slices.Sorted(maps.Keys(byPackage)))
			continue
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixture{name: name, pkg: pkg, function: function, raw: raw})
	}
	return out
}

// restEventKeys are the keys of API Gateway's REST proxy event; it sends
// every one of them, null when empty.
var restEventKeys = []string{
	"body", "headers", "httpMethod", "isBase64Encoded", "multiValueHeaders",
	"multiValueQueryStringParameters", "path", "pathParameters",
	"queryStringParameters", "requestContext", "resource", "stageVariables",
}

// restEvent is what the checks read of an event.
type restEvent struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
	RequestContext                  struct {
		Stage        string `json:"stage"`
		RequestID    string `json:"requestId"`
		ResourcePath string `json:"resourcePath"`
		HTTPMethod   string `json:"httpMethod"`
		Path         string `json:"path"`
		Identity     struct {
			SourceIP string `json:"sourceIp"`
		} `json:"identity"`
	} `json:"requestContext"`
}

// TestFixturesAreAPIGatewayEvents checks each fixture is exactly what API
// Gateway sends its function for a REST proxy integration: every key, both
// header forms agreeing, a request context, and the resource and path
// parameters API Gateway matches for its path on this template, reaching
// the function the file is named after. And each has an expectation in
// fixtureExpectations, and each expectation a fixture.
func TestFixturesAreAPIGatewayEvents(t *testing.T) {
	tpl := parseTemplate(t)
	gw, err := localapi.FromTemplate(tpl, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fixtures := loadFixtures(t, tpl)
	seen := map[string]bool{}
	for _, fx := range fixtures {
		seen[fx.name] = true
		t.Run(fx.name, func(t *testing.T) {
			if _, ok := fixtureExpectations[fx.name]; !ok {
				t.Errorf("no expectation in fixtureExpectations for events/%s.json", fx.name)
			}
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(fx.raw, &keys); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, restEventKeys) {
				t.Errorf("keys %v, want exactly %v", got, restEventKeys)
			}
			var e restEvent
			dec := json.NewDecoder(bytes.NewReader(fx.raw))
			if err := dec.Decode(&e); err != nil {
				t.Fatal(err)
			}
			checkMultiValue(t, "headers", e.Headers, e.MultiValueHeaders)
			checkMultiValue(t, "queryStringParameters", e.QueryStringParameters, e.MultiValueQueryStringParameters)

			rc := e.RequestContext
			stage := tpl.APIs[0].Properties.StageName
			if rc.Stage != stage || rc.RequestID == "" || rc.Identity.SourceIP == "" {
				t.Errorf("requestContext needs stage %s, requestId and identity.sourceIp: %+v", stage, rc)
			}
			if rc.ResourcePath != e.Resource || rc.HTTPMethod != e.HTTPMethod {
				t.Errorf("requestContext resourcePath %s %s, event %s %s", rc.HTTPMethod, rc.ResourcePath, e.HTTPMethod, e.Resource)
			}
			// API Gateway: /Prod/v7/token; sam local start-api: the resource.
			if rc.Path != "/"+stage+e.Path && rc.Path != e.Resource {
				t.Errorf("requestContext.path %q, want /%s%s (or the resource, as sam local sends)", rc.Path, stage, e.Path)
			}

			route, params, ok := gw.Match(e.HTTPMethod, e.Path)
			switch {
			case !ok:
				t.Errorf("API Gateway routes %s %s nowhere", e.HTTPMethod, e.Path)
			case route.Resource != e.Resource || !maps.Equal(params, e.PathParameters):
				t.Errorf("resource %s %v, but API Gateway matches %s %v", e.Resource, e.PathParameters, route.Resource, params)
			case route.Function != fx.function:
				t.Errorf("named after %s, but API Gateway sends %s %s to %s", fx.function, e.HTTPMethod, e.Path, route.Function)
			}

			if e.IsBase64Encoded {
				if e.Body == nil {
					t.Error("isBase64Encoded with no body")
				} else if _, err := base64.StdEncoding.DecodeString(*e.Body); err != nil {
					t.Errorf("body is not base64: %v", err)
				}
			}
			if _, err := eventfixture.Fill(fx.raw, map[string]string{
				eventfixture.SessionID: "x", eventfixture.AccessToken: "x", eventfixture.OneTimeToken: "x",
			}); err != nil {
				t.Error(err)
			}
		})
	}
	for name := range fixtureExpectations {
		if !seen[name] {
			t.Errorf("fixtureExpectations has %s, but there is no events/%s.json", name, name)
		}
	}
}

// checkMultiValue checks API Gateway's two forms of headers or query
// parameters agree: the same names, the single-value one the last value.
func checkMultiValue(t *testing.T, what string, single map[string]string, multi map[string][]string) {
	t.Helper()
	if !slices.Equal(slices.Sorted(maps.Keys(single)), slices.Sorted(maps.Keys(multi))) {
		t.Errorf("%s and multiValue%s%s name different keys", what, strings.ToUpper(what[:1]), what[1:])
		return
	}
	for k, vs := range multi {
		if len(vs) == 0 || single[k] != vs[len(vs)-1] {
			t.Errorf("%s[%s] = %q, multi-value form %q", what, k, single[k], vs)
		}
	}
}
