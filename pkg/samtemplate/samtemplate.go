// Package samtemplate reads an AWS SAM template into what mtauth's tools
// need from it: each function with its Globals applied, its API routes,
// its build metadata and IAM statements, and each API's stage and gateway
// responses. It parses with goformation (github.com/awslabs/goformation),
// and adds the two things goformation does not do for SAM: merging Globals
// into each function, and reading GatewayResponses (goformation types them
// as strings; they are objects).
//
// Intrinsic functions are resolved the way a reader of the template
// would: a Ref to a Parameter becomes its default as a string (what
// CloudFormation passes when nothing overrides it), a Ref to a resource
// stays "!Ref Name", Fn::GetAtt stays "!GetAtt Name.Attribute", and
// Fn::Sub stays as written.
package samtemplate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// The SAM resource types this package reads.
const (
	FunctionType = "AWS::Serverless::Function"
	APIType      = "AWS::Serverless::Api"
)

// Template is a parsed SAM template.
type Template struct {
	Parameters cloudformation.Parameters
	Outputs    cloudformation.Outputs
	// Resources maps every logical id to its type.
	Resources map[string]string
	// Functions are the AWS::Serverless::Function resources, Globals
	// applied, sorted by logical id.
	Functions []Function
	// APIs are the AWS::Serverless::Api resources, sorted by logical id.
	APIs []API
	// GlobalEnvironment is Globals.Function.Environment.Variables, the
	// settings every function receives.
	GlobalEnvironment map[string]string

	raw map[string]map[string]any // resources, intrinsics resolved
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Metadata is the resource's Metadata section (BuildMethod, ...).
	Metadata map[string]any
	// Properties are the function's properties with Globals merged in.
	Properties *serverless.Function
	// Routes are its API events, in the order of their event names.
	Routes []Route
}

// Route is one Api event of a function: requests with Method on Path of
// the REST API RestAPI reach the function.
type Route struct {
	Event string
	// RestAPI is the logical id of the AWS::Serverless::Api.
	RestAPI string
	// Method is upper case; "ANY" matches every verb.
	Method string
	// Path is in API Gateway's syntax: /{version}/token, /{proxy+}.
	Path string
}

// API is one AWS::Serverless::Api.
type API struct {
	LogicalID string
	// Properties are the API's properties except GatewayResponses, which
	// goformation cannot read.
	Properties *serverless.Api
	// GatewayResponses maps a response type (THROTTLED, DEFAULT_4XX, ...)
	// to what API Gateway answers for it.
	GatewayResponses map[string]GatewayResponse
}

// GatewayResponse is what API Gateway answers for one kind of error it
// makes by itself.
type GatewayResponse struct {
	StatusCode int
	// Headers holds the static header values, without the quotes the
	// template needs around them.
	Headers map[string]string
	// Templates maps a content type to the body sent for it.
	Templates map[string]string
}

// Statement is one IAM policy statement of a function.
type Statement struct {
	Effect    string
	Actions   []string
	Resources []string
}

// processing serializes goformation's YAML processing, which rewrites a
// package-level map of tag resolvers on every call.
var processing sync.Mutex

// Parse reads a SAM template in YAML or JSON. It is safe to call from
// several goroutines.
func Parse(data []byte) (*Template, error) {
	return ParseWithParameters(data, nil)
}

// ParseWithParameters is Parse with some Parameters given values other
// than their defaults, as `sam deploy --parameter-overrides` gives them.
func ParseWithParameters(data []byte, values map[string]string) (*Template, error) {
	overrides := map[string]any{}
	for name, v := range values {
		overrides[name] = v
	}
	processing.Lock()
	processed, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		ParameterOverrides: overrides,
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        ref,
			"Fn::GetAtt": getAtt,
			"Fn::Sub":    asWritten,
		},
	})
	processing.Unlock()
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	var raw struct {
		Parameters cloudformation.Parameters
		Outputs    cloudformation.Outputs
		Globals    map[string]map[string]any
		Resources  map[string]map[string]any
	}
	if err := json.Unmarshal(processed, &raw); err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	t := &Template{Parameters: raw.Parameters, Outputs: raw.Outputs, Resources: map[string]string{}, raw: raw.Resources}
	globalFunction := raw.Globals["Function"]
	if env, ok := dig(globalFunction, "Environment", "Variables").(map[string]any); ok {
		t.GlobalEnvironment = map[string]string{}
		for name, v := range env {
			t.GlobalEnvironment[name] = fmt.Sprint(v)
		}
	}
	for _, id := range sortedKeys(raw.Resources) {
		res := raw.Resources[id]
		typ, _ := res["Type"].(string)
		t.Resources[id] = typ
		switch typ {
		case FunctionType:
			f, err := parseFunction(id, res, globalFunction)
			if err != nil {
				return nil, fmt.Errorf("samtemplate: %s: %w", id, err)
			}
			t.Functions = append(t.Functions, f)
		case APIType:
			a, err := parseAPI(id, res)
			if err != nil {
				return nil, fmt.Errorf("samtemplate: %s: %w", id, err)
			}
			t.APIs = append(t.APIs, a)
		}
	}
	return t, nil
}

// Function returns the function with the given logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// Decode decodes any resource into its goformation type, such as
// *dynamodb.Table from goformation's cloudformation/dynamodb package.
func (t *Template) Decode(logicalID string, into cloudformation.Resource) error {
	res, ok := t.raw[logicalID]
	if !ok {
		return fmt.Errorf("samtemplate: no resource %s", logicalID)
	}
	if typ := res["Type"]; typ != into.AWSCloudFormationType() {
		return fmt.Errorf("samtemplate: %s is %v, not %s", logicalID, typ, into.AWSCloudFormationType())
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

func parseFunction(id string, res, globals map[string]any) (Function, error) {
	props, _ := res["Properties"].(map[string]any)
	res = shallowCopy(res)
	res["Properties"] = mergeGlobals(globals, props)
	b, err := json.Marshal(res)
	if err != nil {
		return Function{}, err
	}
	var fn serverless.Function
	if err := json.Unmarshal(b, &fn); err != nil {
		return Function{}, err
	}
	f := Function{LogicalID: id, Metadata: fn.AWSCloudFormationMetadata, Properties: &fn}
	for _, name := range sortedKeys(fn.Events) {
		ev := fn.Events[name]
		if ev.Type != "Api" {
			continue
		}
		if ev.Properties == nil || ev.Properties.ApiEvent == nil {
			return Function{}, fmt.Errorf("event %s: not an Api event's properties", name)
		}
		api := ev.Properties.ApiEvent
		r := Route{Event: name, Method: strings.ToUpper(api.Method), Path: api.Path}
		if api.RestApiId != nil {
			r.RestAPI = strings.TrimPrefix(*api.RestApiId, refPrefix)
		}
		f.Routes = append(f.Routes, r)
	}
	return f, nil
}

func parseAPI(id string, res map[string]any) (API, error) {
	props, _ := res["Properties"].(map[string]any)
	props = shallowCopy(props)
	rawResponses := props["GatewayResponses"]
	delete(props, "GatewayResponses")
	res = shallowCopy(res)
	res["Properties"] = props
	b, err := json.Marshal(res)
	if err != nil {
		return API{}, err
	}
	var api serverless.Api
	if err := json.Unmarshal(b, &api); err != nil {
		return API{}, err
	}
	a := API{LogicalID: id, Properties: &api}
	if rawResponses != nil {
		if a.GatewayResponses, err = parseGatewayResponses(rawResponses); err != nil {
			return API{}, fmt.Errorf("GatewayResponses: %w", err)
		}
	}
	return a, nil
}

// parseGatewayResponses reads SAM's GatewayResponses property. Header
// values must be static ('quoted'); a mapping from the request is not
// something a local stand-in could reproduce, so it is refused.
func parseGatewayResponses(v any) (map[string]GatewayResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var raw map[string]struct {
		StatusCode         json.Number
		ResponseParameters struct{ Headers map[string]string }
		ResponseTemplates  map[string]string
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	out := map[string]GatewayResponse{}
	for typ, r := range raw {
		gr := GatewayResponse{Headers: map[string]string{}, Templates: r.ResponseTemplates}
		if r.StatusCode != "" {
			if gr.StatusCode, err = strconv.Atoi(r.StatusCode.String()); err != nil {
				return nil, fmt.Errorf("%s: StatusCode %q: %w", typ, r.StatusCode, err)
			}
		}
		for name, value := range r.ResponseParameters.Headers {
			if len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
				return nil, fmt.Errorf("%s: header %s: %q is not a static 'value'", typ, name, value)
			}
			gr.Headers[name] = value[1 : len(value)-1]
		}
		out[typ] = gr
	}
	return out, nil
}

// Statements returns the function's inline IAM policy statements (SAM
// policy templates and managed policy names are not statements and are
// left out).
func (f Function) Statements() []Statement {
	p := f.Properties.Policies
	if p == nil {
		return nil
	}
	var docs []serverless.Function_IAMPolicyDocument
	if p.IAMPolicyDocument != nil {
		docs = append(docs, *p.IAMPolicyDocument)
	}
	if p.IAMPolicyDocumentArray != nil {
		docs = append(docs, *p.IAMPolicyDocumentArray...)
	}
	var out []Statement
	for _, doc := range docs {
		for _, raw := range doc.Statement {
			m, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			effect, _ := m["Effect"].(string)
			out = append(out, Statement{Effect: effect, Actions: strings1(m["Action"]), Resources: strings1(m["Resource"])})
		}
	}
	return out
}

// Environment returns the function's environment variables, Globals
// included.
func (f Function) Environment() map[string]string {
	if f.Properties.Environment == nil {
		return nil
	}
	return f.Properties.Environment.Variables
}

// GoPackageKey is mtauth's Metadata entry naming the Go package a
// function runs ("./functions/get_token"), the one `make build-<LogicalId>`
// builds.
const GoPackageKey = "GoPackage"

// GoPackage returns the function's Metadata.GoPackage.
func (f Function) GoPackage() string { return f.MetadataString(GoPackageKey) }

// MetadataString returns a string entry of the function's Metadata.
func (f Function) MetadataString(key string) string {
	s, _ := f.Metadata[key].(string)
	return s
}

// strings1 reads a string or a list of strings, as IAM allows for Action
// and Resource.
func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			out = append(out, fmt.Sprint(s))
		}
		return out
	}
	return nil
}

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func shallowCopy(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
