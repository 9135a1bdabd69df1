package mtauth_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"

	project "github.com/mtauth/mtauth"
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/dataapi"
	"github.com/mtauth/mtauth/pkg/samtemplate"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

// Tests that hold template.yaml to the code: the routes are the service's,
// every function has its build target, every setting is declared with the
// code's default, and API Gateway's own answers look like the Data API's.
// The IAM actions are held to what the functions really call by the
// fixture run (TestFixturesUnderTheEmulator).

func parseTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Parse(project.Template)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// catchAllPackage is the code that serves whatever no endpoint function
// takes.
const catchAllPackage = "./functions/catch_all"

type route struct{ method, path string }

func TestTemplateRoutesAreTheServiceRoutes(t *testing.T) {
	tpl := parseTemplate(t)
	served := map[route]string{} // endpoint route -> function
	var catchAll []route
	for _, f := range tpl.Functions {
		serves, err := app.Serves(f.GoPackage())
		if err != nil {
			t.Errorf("%s: Metadata.GoPackage: %v", f.LogicalID, err)
			continue
		}
		var got []route
		for _, r := range f.Routes {
			got = append(got, route{r.Method, r.Path})
		}
		if f.GoPackage() == catchAllPackage {
			catchAll = got
			continue
		}
		// An endpoint function has exactly the routes of what it serves.
		var want []route
		for _, ep := range serves {
			want = append(want, route{ep.Method, "/{version}" + ep.Path})
		}
		if !sameRoutes(got, want) {
			t.Errorf("%s routes %v, but it serves %v", f.LogicalID, got, want)
		}
		for _, r := range got {
			served[r] = f.LogicalID
		}
	}
	// Every endpoint is some function's route, and nothing else is.
	var want []route
	paths := []string{}
	for _, ep := range dataapi.Endpoints {
		r := route{ep.Method, "/{version}" + ep.Path}
		want = append(want, r)
		if _, ok := served[r]; !ok {
			t.Errorf("no function routes %s %s (endpoint %s)", r.method, r.path, ep.ID)
		}
		if !slices.Contains(paths, ep.Path) {
			paths = append(paths, ep.Path)
		}
	}
	if len(served) != len(want) {
		t.Errorf("endpoint functions route %v, want exactly %v", served, want)
	}
	// The catch-all takes every other path and verb: the root, a bare
	// version, anything deeper, and ANY on each endpoint path.
	wantCatchAll := []route{{"ANY", "/"}, {"ANY", "/{version}"}, {"ANY", "/{version}/{proxy+}"}}
	for _, p := range paths {
		wantCatchAll = append(wantCatchAll, route{"ANY", "/{version}" + p})
	}
	if !sameRoutes(catchAll, wantCatchAll) {
		t.Errorf("catch-all (%s) routes %v, want %v", catchAllPackage, catchAll, wantCatchAll)
	}
	if serves, _ := app.Serves(catchAllPackage); !sameEndpoints(serves, dataapi.Endpoints) {
		t.Errorf("the catch-all serves %v, want every endpoint", serves)
	}
}

func sameRoutes(a, b []route) bool {
	key := func(r route) string { return r.method + " " + r.path }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, r := range a {
		ka[i] = key(r)
	}
	for i, r := range b {
		kb[i] = key(r)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

func sameEndpoints(a, b []dataapi.Endpoint) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(e dataapi.Endpoint) bool { return !slices.Contains(b, e) })
}

func TestEveryFunctionPackageIsInTheTemplate(t *testing.T) {
	tpl := parseTemplate(t)
	dirs, err := os.ReadDir("functions")
	if err != nil {
		t.Fatal(err)
	}
	var inTemplate []string
	for _, f := range tpl.Functions {
		inTemplate = append(inTemplate, path.Base(f.GoPackage()))
	}
	for _, d := range dirs {
		if d.IsDir() && !slices.Contains(inTemplate, d.Name()) {
			t.Errorf("functions/%s is no function's Metadata.GoPackage in template.yaml", d.Name())
		}
	}
}

func TestEveryFunctionHasItsBuildTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: SAM's makefile build method runs it")
	}
	tpl := parseTemplate(t)
	var ids []string
	for _, f := range tpl.Functions {
		ids = append(ids, f.LogicalID)
		p := f.Properties
		if f.MetadataString("BuildMethod") != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod %q, want makefile", f.LogicalID, f.MetadataString("BuildMethod"))
		}
		if p.Runtime == nil || *p.Runtime != "provided.al2023" || !slices.Equal(p.Architectures, []string{"arm64"}) ||
			p.Handler == nil || *p.Handler != "bootstrap" || p.CodeUri == nil || p.CodeUri.String == nil || *p.CodeUri.String != "." {
			t.Errorf("%s: want provided.al2023 on arm64, Handler bootstrap, CodeUri . (where the Makefile is)", f.LogicalID)
		}
		// `sam build` runs exactly this.
		out, err := exec.Command("make", "-n", "build-"+f.LogicalID, "ARTIFACTS_DIR=/artifacts").CombinedOutput()
		if err != nil {
			t.Errorf("make -n build-%s: %v\n%s", f.LogicalID, err, out)
			continue
		}
		build := regexp.MustCompile(`(?m)^GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build .*-trimpath .*-o "/artifacts/bootstrap" (\S+)$`).FindSubmatch(out)
		if build == nil || string(build[1]) != f.GoPackage() || !strings.Contains(string(out), "-tags lambda.norpc") {
			t.Errorf("make build-%s does not build a static linux/arm64 bootstrap of %s:\n%s", f.LogicalID, f.GoPackage(), out)
		}
	}
	// `make build` builds exactly the template's functions.
	out, err := exec.Command("make", "-n", "build").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	var built []string
	for _, m := range regexp.MustCompile(`\.aws-sam/build/(\w+)/bootstrap" \./functions/`).FindAllSubmatch(out, -1) {
		built = append(built, string(m[1]))
	}
	slices.Sort(built)
	if !slices.Equal(built, ids) {
		t.Errorf("make build builds %v, the template has %v", built, ids)
	}
}

// TestEverySettingIsAParameterWithTheCodesDefault: each variable pkg/config
// reads is in Globals (AWS_ENDPOINT_URL_DYNAMODB, the SDK's own, is for
// local runs and stays out), set from a Parameter whose default is the
// code's default. TABLE_NAME is the table the stack creates.
func TestEverySettingIsAParameterWithTheCodesDefault(t *testing.T) {
	tpl := parseTemplate(t)
	for name, p := range tpl.Parameters {
		if p.Default == nil {
			t.Errorf("Parameter %s has no Default", name)
		}
		if p.Description == nil || *p.Description == "" {
			t.Errorf("Parameter %s has no Description", name)
		}
	}
	// Parse again with every Parameter set to its own name, to see which
	// variable each one feeds.
	named := map[string]string{}
	for name := range tpl.Parameters {
		named[name] = "parameter:" + name
	}
	byName, err := samtemplate.ParseWithParameters(project.Template, named)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, v := range config.Variables {
		want = append(want, v.Name)
		got, ok := tpl.GlobalEnvironment[v.Name]
		switch {
		case !ok:
			t.Errorf("%s is not in Globals.Function.Environment", v.Name)
		case v.Name == "TABLE_NAME":
			if got != samtemplate.Ref("Table") {
				t.Errorf("TABLE_NAME = %q, want !Ref Table", got)
			}
		case !strings.HasPrefix(byName.GlobalEnvironment[v.Name], "parameter:"):
			t.Errorf("%s is %q, not a Parameter", v.Name, got)
		case got != v.Default:
			t.Errorf("%s defaults to %q in the template (%s), %q in pkg/config", v.Name, got, byName.GlobalEnvironment[v.Name], v.Default)
		}
	}
	for name := range tpl.GlobalEnvironment {
		if !slices.Contains(want, name) {
			t.Errorf("Globals sets %s, which pkg/config does not read", name)
		}
	}
	for _, f := range tpl.Functions {
		for _, name := range want {
			if f.Environment()[name] != tpl.GlobalEnvironment[name] {
				t.Errorf("%s overrides %s; settings belong in Globals", f.LogicalID, name)
			}
		}
	}
}

// commonResponse is what the Data API answers for an unknown endpoint:
// the body and the headers every answer carries.
func commonResponse(t *testing.T) (http.Header, string) {
	t.Helper()
	api := dataapi.New(nil, dataapi.Options{}, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v7/no-such-endpoint", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /v7/no-such-endpoint: %d, want 404", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	h := rec.Header().Clone()
	h.Del("Content-Type")
	return h, string(body)
}

func TestGatewayResponsesSpeakTheDataAPIsShape(t *testing.T) {
	tpl := parseTemplate(t)
	if len(tpl.APIs) != 1 {
		t.Fatalf("%d APIs, want 1", len(tpl.APIs))
	}
	api := tpl.APIs[0]
	if v := api.Properties.OpenApiVersion; v == nil || *v != "3.0.1" {
		t.Errorf("OpenApiVersion %v, want 3.0.1", v)
	}
	common, unknownEndpoint := commonResponse(t)
	for _, typ := range []string{"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX"} {
		if _, ok := api.GatewayResponses[typ]; !ok {
			t.Errorf("GatewayResponses has no %s", typ)
		}
	}
	for typ, r := range api.GatewayResponses {
		var body struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		raw := r.Templates["application/json"]
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil || body.Error.Code != r.StatusCode || body.Error.Message == "" {
			t.Errorf("%s: status %d, body %q: want {\"error\":{\"code\":%d,\"message\":...}}", typ, r.StatusCode, raw, r.StatusCode)
		}
		for name := range common {
			if r.Headers[name] != common.Get(name) {
				t.Errorf("%s: header %s = %q, want %q as every Data API answer", typ, name, r.Headers[name], common.Get(name))
			}
		}
	}
	if got := api.GatewayResponses["MISSING_AUTHENTICATION_TOKEN"]; got.StatusCode != http.StatusNotFound || got.Templates["application/json"] != unknownEndpoint {
		t.Errorf("MISSING_AUTHENTICATION_TOKEN: %d %s, want the Data API's own 404 %s", got.StatusCode, got.Templates["application/json"], unknownEndpoint)
	}
}

func TestTableAndOutputs(t *testing.T) {
	tpl := parseTemplate(t)
	var table dynamodb.Table
	if err := tpl.Decode("Table", &table); err != nil {
		t.Fatal(err)
	}
	if table.BillingMode == nil || *table.BillingMode != "PAY_PER_REQUEST" {
		t.Error("the table is not billed on demand")
	}
	if len(table.KeySchema) != 1 || table.KeySchema[0].AttributeName != dynamo.KeyAttribute || table.KeySchema[0].KeyType != "HASH" {
		t.Errorf("key schema %+v, want one HASH key %s", table.KeySchema, dynamo.KeyAttribute)
	}
	if ttl := table.TimeToLiveSpecification; ttl == nil || ttl.AttributeName == nil || *ttl.AttributeName != dynamo.TTLAttribute || !ttl.Enabled {
		t.Errorf("Time to Live is not on %s", dynamo.TTLAttribute)
	}
	if p := table.PointInTimeRecoverySpecification; p == nil || p.PointInTimeRecoveryEnabled == nil || !*p.PointInTimeRecoveryEnabled {
		t.Error("point-in-time recovery is off")
	}
	if s := table.SSESpecification; s == nil || !s.SSEEnabled {
		t.Error("encryption at rest (SSESpecification) is off")
	}

	stage := tpl.APIs[0].Properties.StageName
	if url, _ := tpl.Outputs["ApiUrl"].Value.(string); !strings.HasPrefix(url, "https://${Api}.execute-api.") || !strings.HasSuffix(url, "/"+stage+"/") {
		t.Errorf("Outputs.ApiUrl = %q, want the stage URL https://${Api}.execute-api.../%s/", url, stage)
	}
	if name := tpl.Outputs["TableName"].Value; name != samtemplate.Ref("Table") {
		t.Errorf("Outputs.TableName = %v, want !Ref Table", name)
	}
	for _, f := range tpl.Functions {
		p := f.Properties
		if p.Tracing == nil || *p.Tracing != "Active" || p.Timeout == nil || p.MemorySize == nil {
			t.Errorf("%s: want Tracing Active, a Timeout and a MemorySize (from Globals)", f.LogicalID)
		}
		// Only DynamoDB, only on the table; which actions is checked
		// against what the function calls, by the fixture run.
		for _, st := range f.Statements() {
			if st.Effect != "Allow" || !slices.Equal(st.Resources, []string{samtemplate.GetAtt("Table", "Arn")}) {
				t.Errorf("%s: statement %+v: want Allow on !GetAtt Table.Arn only", f.LogicalID, st)
			}
			for _, a := range st.Actions {
				if !strings.HasPrefix(a, "dynamodb:") || strings.Contains(a, "*") {
					t.Errorf("%s: action %s: want named DynamoDB actions only", f.LogicalID, a)
				}
			}
		}
	}
}

// TestSAMConfigNamesTemplateParameters: samconfig.toml's overrides name
// Parameters that exist, and its local runs use events/env.json.
func TestSAMConfigNamesTemplateParameters(t *testing.T) {
	tpl := parseTemplate(t)
	cfg, err := os.ReadFile("samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^parameter_overrides = "(.*)"$`).FindSubmatch(cfg)
	if m == nil {
		t.Fatal("samconfig.toml has no parameter_overrides")
	}
	for _, kv := range strings.Fields(string(m[1])) {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := tpl.Parameters[name]; !ok {
			t.Errorf("samconfig.toml overrides %s, which template.yaml does not have", name)
		}
	}
	for _, want := range []string{"version = 0.1", `env_vars = "events/env.json"`, "port = 3000", "resolve_s3 = true", "confirm_changeset = false"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("samconfig.toml lacks %s", want)
		}
	}
	var env struct{ Parameters map[string]string }
	b, err := os.ReadFile("events/env.json")
	if err == nil {
		err = json.Unmarshal(b, &env)
	}
	if err != nil {
		t.Fatal(err)
	}
	if env.Parameters["TABLE_NAME"] == "" || env.Parameters[dynamo.LocalEndpointVariable] == "" {
		t.Errorf("events/env.json must set TABLE_NAME and %s for every function", dynamo.LocalEndpointVariable)
	}
	if _, err := strconv.Atoi(strings.TrimPrefix(regexp.MustCompile(`:\d+$`).FindString(env.Parameters[dynamo.LocalEndpointVariable]), ":")); err != nil {
		t.Errorf("events/env.json: %s = %q, want http://HOST:PORT", dynamo.LocalEndpointVariable, env.Parameters[dynamo.LocalEndpointVariable])
	}
}
