package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/samtemplate"
)

var customized = map[string]samtemplate.GatewayResponse{
	MissingAuthenticationToken: {StatusCode: 404, Headers: map[string]string{"Cache-Control": "no-cache"},
		Templates: map[string]string{"application/json": `{"error":{"code":404,"message":"Unknown endpoint"}}`}},
	Default5XX: {StatusCode: 500,
		Templates: map[string]string{"application/json": `{"error":{"code":500,"message":$context.error.messageString}}`}},
}

// instances makes Route.Instance of a handler function, as serve does.
func instances(h any) func() lambda.Handler {
	return func() lambda.Handler { return lambda.NewHandler(h) }
}

func serve(t *testing.T, g *Gateway, r *http.Request) (*http.Response, string) {
	t.Helper()
	if g.Log == nil {
		g.Log = slog.New(slog.DiscardHandler)
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, r)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestGatewayInvokesTheRouteWithAPIGatewaysEvent(t *testing.T) {
	var got events.APIGatewayProxyRequest
	h := func(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = e
		return events.APIGatewayProxyResponse{StatusCode: 201, MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}}, Body: "ok"}, nil
	}
	g := &Gateway{Stage: "Prod", Routes: []Route{{Method: "POST", Resource: "/{version}/token", Function: "GetToken", Instance: instances(h)}}}
	req := httptest.NewRequest(http.MethodPost, "/v7/token?x=1", strings.NewReader("a=b"))
	resp, body := serve(t, g, req)
	if resp.StatusCode != 201 || body != "ok" || len(resp.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got.Resource != "/{version}/token" || got.PathParameters["version"] != "v7" || got.RequestContext.Stage != "Prod" ||
		got.RequestContext.ResourcePath != "/{version}/token" || got.RequestContext.RequestID == "" || got.Body != "a=b" ||
		got.QueryStringParameters["x"] != "1" {
		t.Errorf("event %+v", got)
	}
}

func TestGatewayAnswersItsOwnErrorsAsCustomized(t *testing.T) {
	failing := instances(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{}, errors.New("boom")
	})
	malformed := instances(func(context.Context, events.APIGatewayProxyRequest) (map[string]any, error) {
		return map[string]any{"statusCode": 200, "cookies": []string{"a=1"}}, nil
	})
	g := &Gateway{Responses: customized, Routes: []Route{
		{Method: "GET", Resource: "/fail", Function: "Failing", Instance: failing},
		{Method: "GET", Resource: "/malformed", Function: "Malformed", Instance: malformed},
		{Method: "POST", Resource: "/big", Function: "Failing", Instance: failing},
	}}
	for _, tc := range []struct {
		req    *http.Request
		status int
		body   string
	}{
		{httptest.NewRequest(http.MethodGet, "/nowhere", nil), 404, `{"error":{"code":404,"message":"Unknown endpoint"}}`},
		{httptest.NewRequest(http.MethodGet, "/fail", nil), 500, `{"error":{"code":500,"message":"Internal server error"}}`},
		{httptest.NewRequest(http.MethodGet, "/malformed", nil), 500, `{"error":{"code":500,"message":"Internal server error"}}`},
		// Not customized, nor its class: API Gateway's own answer.
		{httptest.NewRequest(http.MethodPost, "/big", strings.NewReader(strings.Repeat("x", apigw.MaxEventBody+1))), 413, `{"message":"Request Too Long"}`},
	} {
		resp, body := serve(t, g, tc.req)
		if resp.StatusCode != tc.status || body != tc.body || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s, want %d %s", tc.req.Method, tc.req.URL.Path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	if resp, _ := serve(t, g, httptest.NewRequest(http.MethodGet, "/nowhere", nil)); resp.Header.Get("Cache-Control") != "no-cache" {
		t.Error("the customized response's headers were not sent")
	}
}

func TestGatewayResponseFallsBackToItsClass(t *testing.T) {
	g := &Gateway{Responses: map[string]samtemplate.GatewayResponse{
		Default4XX: {StatusCode: 400, Templates: map[string]string{"application/json": `{"error":{"code":400,"message":"Bad Request"}}`}},
	}}
	resp, body := serve(t, g, httptest.NewRequest(http.MethodGet, "/", nil))
	if resp.StatusCode != 400 || body != `{"error":{"code":400,"message":"Bad Request"}}` {
		t.Errorf("got %d %s, want DEFAULT_4XX's answer", resp.StatusCode, body)
	}
	resp, body = serve(t, &Gateway{}, httptest.NewRequest(http.MethodGet, "/", nil))
	if resp.StatusCode != 403 || body != `{"message":"Missing Authentication Token"}` {
		t.Errorf("uncustomized: %d %s, want API Gateway's 403", resp.StatusCode, body)
	}
}

// Concurrent requests run on separate instances: the Lambda library's
// handler reuses its response buffer, so one instance serving two at once
// would mix up their answers.
func TestGatewayRunsConcurrentRequestsOnSeparateInstances(t *testing.T) {
	echo := instances(func(_ context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: strings.Repeat(e.PathParameters["proxy"], 1000)}, nil
	})
	g := &Gateway{Log: slog.New(slog.DiscardHandler), Routes: []Route{{Method: "ANY", Resource: "/{proxy+}", Function: "Echo", Instance: echo}}}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("c%02d", i)
			for range 20 {
				_, body := serve(t, g, httptest.NewRequest(http.MethodGet, "/"+name, nil))
				if body != strings.Repeat(name, 1000) {
					t.Errorf("client %s got another answer", name)
					return
				}
			}
		}()
	}
	wg.Wait()
}
