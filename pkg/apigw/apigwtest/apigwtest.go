// Package apigwtest drives a Lambda function in tests the way API Gateway
// and Lambda do: it writes the JSON event of a REST API proxy integration
// (payload 1.0), runs it through aws-lambda-go's own decoding into the
// function, and reads the JSON answer the way API Gateway turns it into
// HTTP. Tests of several packages drive the Data API so; sharing this
// keeps their events alike, and like API Gateway's.
//
// It is a plain package, not a _test.go file, so that the tests of every
// package can import it; production code must not (see
// TestTestSupportStaysOutOfProduction in pkg/testkit).
package apigwtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Request is one HTTP request as API Gateway hands it to a function
// behind the "/{proxy+}" resource of the Prod stage.
type Request struct {
	Method, Path string
	// Header holds single-valued headers, named as the client wrote them.
	Header map[string]string
	Query  url.Values
	// Body is the body as API Gateway passes it on: as it came, or
	// base64-encoded with Base64 set (as API Gateway does with bodies it
	// does not take for text).
	Body   string
	Base64 bool
	// HeaderMaps says which of the event's header maps carry Header.
	HeaderMaps HeaderMaps
	// SourceIP, UserAgent and RequestID go in the requestContext.
	SourceIP, UserAgent, RequestID string
}

// HeaderMaps selects the header maps of an event. API Gateway fills both;
// a function must read either alone as well.
type HeaderMaps int

const (
	BothHeaderMaps HeaderMaps = iota
	HeadersOnly
	MultiValueHeadersOnly
)

// Event returns the JSON event of r. It is written field by field rather
// than from events.APIGatewayProxyRequest so that what the request lacks
// is null (body, stageVariables, an omitted header map), as API Gateway
// sends it.
func (r Request) Event() []byte {
	var headers map[string]string
	var multiHeaders map[string][]string
	if r.HeaderMaps != MultiValueHeadersOnly {
		headers = r.Header
	}
	if r.HeaderMaps != HeadersOnly && r.Header != nil {
		multiHeaders = map[string][]string{}
		for k, v := range r.Header {
			multiHeaders[k] = []string{v}
		}
	}
	var query map[string]string
	if len(r.Query) > 0 {
		query = map[string]string{}
		for k, v := range r.Query {
			query[k] = v[len(v)-1]
		}
	}
	var body *string
	if r.Body != "" {
		body = &r.Body
	}
	e := map[string]any{
		"resource":                        "/{proxy+}",
		"path":                            r.Path,
		"httpMethod":                      r.Method,
		"headers":                         headers,
		"multiValueHeaders":               multiHeaders,
		"queryStringParameters":           query,
		"multiValueQueryStringParameters": map[string][]string(r.Query),
		"pathParameters":                  map[string]string{"proxy": strings.TrimPrefix(r.Path, "/")},
		"stageVariables":                  nil,
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"apiId":        "a1b2c3d4e5",
			"resourcePath": "/{proxy+}",
			"httpMethod":   r.Method,
			"path":         "/Prod" + r.Path,
			"stage":        "Prod",
			"requestId":    r.RequestID,
			"identity":     map[string]any{"sourceIp": r.SourceIP, "userAgent": r.UserAgent},
		},
		"body":            body,
		"isBase64Encoded": r.Base64,
	}
	payload, err := json.Marshal(e)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return payload
}

// Response is a function's answer as API Gateway turns it into HTTP.
type Response struct {
	Status int
	// Header holds the answer's headers and multiValueHeaders, the latter
	// taking precedence.
	Header http.Header
	Body   string
	// Base64 says the body came base64-encoded.
	Base64 bool
}

// Invoke runs the JSON event through fn as Lambda does and decodes its
// answer. fn's error, or an answer that is not a proxy response, is the
// error.
func Invoke(ctx context.Context, fn lambda.Handler, event []byte) (Response, error) {
	out, err := fn.Invoke(ctx, event)
	if err != nil {
		return Response{}, fmt.Errorf("invoke: %w", err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return Response{}, fmt.Errorf("decode response: %w", err)
	}
	r := Response{Status: resp.StatusCode, Header: http.Header{}, Body: resp.Body, Base64: resp.IsBase64Encoded}
	for k, v := range resp.Headers {
		r.Header.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		r.Header[http.CanonicalHeaderKey(k)] = vs
	}
	return r, nil
}
