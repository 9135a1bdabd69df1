package apigw

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestNewRequestFromEvent(t *testing.T) {
	e := events.APIGatewayProxyRequest{
		HTTPMethod:                      "POST",
		Path:                            "/v4/token",
		MultiValueHeaders:               map[string][]string{"x-mt-authorization": {"MTAuth sessionId=s"}, "Cookie": {"a=1", "b=2"}, "Host": {"api.example.com"}},
		Headers:                         map[string]string{"Ignored-When-Multi": "x"},
		MultiValueQueryStringParameters: map[string][]string{"clientId": {"c", "d"}, "q": {"a b&c"}},
		Body:                            "dXNlcm5hbWU9bWVsb2R5", // username=melody
		IsBase64Encoded:                 true,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: "req-1", Identity: events.APIGatewayRequestIdentity{SourceIP: "192.0.2.7"},
		},
	}
	r := NewRequest(context.Background(), e)
	if r.Method != "POST" || r.URL.Path != "/v4/token" || r.Host != "api.example.com" {
		t.Fatalf("method/path/host = %s %s %s", r.Method, r.URL.Path, r.Host)
	}
	if got := r.Header.Get("X-MT-Authorization"); got != "MTAuth sessionId=s" {
		t.Errorf("header names are not case-insensitive: %q", got)
	}
	if got := r.Header.Values("Cookie"); !slices.Equal(got, []string{"a=1", "b=2"}) || r.Header.Get("Ignored-When-Multi") != "" {
		t.Errorf("multi-value headers not preferred: %v", r.Header)
	}
	if q := r.URL.Query(); !slices.Equal(q["clientId"], []string{"c", "d"}) || q.Get("q") != "a b&c" {
		t.Errorf("query = %v", q)
	}
	if body, _ := io.ReadAll(r.Body); string(body) != "username=melody" {
		t.Errorf("base64 body decoded to %q", body)
	}
	if r.RemoteAddr != "192.0.2.7:0" {
		t.Errorf("RemoteAddr = %q, want the sourceIp", r.RemoteAddr)
	}
}

func TestNewRequestSingleValueFallbackAndBadBase64(t *testing.T) {
	r := NewRequest(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/", Headers: map[string]string{"X-Test": "1"},
		QueryStringParameters: map[string]string{"a": "b"}, Body: "!!not base64!!", IsBase64Encoded: true,
	})
	if r.Header.Get("X-Test") != "1" || r.URL.Query().Get("a") != "b" {
		t.Errorf("single-value headers or query lost: %v %v", r.Header, r.URL.Query())
	}
	if _, err := io.ReadAll(r.Body); err == nil {
		t.Error("a broken base64 body read without error")
	}
}

func TestHandlerResponseAndDeadline(t *testing.T) {
	var remaining time.Duration
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline, _ := r.Context().Deadline()
		remaining = time.Until(deadline)
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte{0xff, 0x00})
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h(ctx, events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTeapot || len(resp.MultiValueHeaders["Set-Cookie"]) != 2 {
		t.Errorf("status %d, headers %v", resp.StatusCode, resp.MultiValueHeaders)
	}
	if !resp.IsBase64Encoded || resp.Body != "/wA=" {
		t.Errorf("binary body = %q (base64 %v)", resp.Body, resp.IsBase64Encoded)
	}
	if remaining > 10*time.Second-DeadlineMargin {
		t.Errorf("handler saw %v left of a 10 s invocation; want at most %v", remaining, 10*time.Second-DeadlineMargin)
	}
}

func TestNewEventAndWriteResponseRoundTrip(t *testing.T) {
	r := httptest.NewRequest("POST", "http://127.0.0.1:3000/v4/authentication?clientId=c", strings.NewReader("a=1"))
	r.RemoteAddr = "198.51.100.4:51000"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e, err := NewEvent(r, Route{Resource: "/{version}/authentication", PathParameters: map[string]string{"version": "v4"}}, "Prod", "id-1")
	if err != nil {
		t.Fatal(err)
	}
	if e.RequestContext.Identity.SourceIP != "198.51.100.4" || e.Body != "a=1" || e.IsBase64Encoded ||
		e.QueryStringParameters["clientId"] != "c" || e.Headers["Content-Type"] == "" || e.RequestContext.Stage != "Prod" {
		t.Errorf("event = %+v", e)
	}
	big := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", MaxEventBody+1)))
	if _, err := NewEvent(big, Route{}, "Prod", "id-2"); err != ErrBodyTooLarge {
		t.Errorf("oversized body: err = %v", err)
	}
	w := httptest.NewRecorder()
	err = WriteResponse(w, events.APIGatewayProxyResponse{StatusCode: 201, Headers: map[string]string{"X-One": "1"},
		MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}}, Body: "aGk=", IsBase64Encoded: true})
	if err != nil || w.Code != 201 || w.Body.String() != "hi" || len(w.Result().Cookies()) != 2 || w.Header().Get("X-One") != "1" {
		t.Errorf("written: %d %q %v (%v)", w.Code, w.Body.String(), w.Header(), err)
	}
}

func TestRoutedPathIgnoresBasePath(t *testing.T) {
	for _, tt := range []struct {
		e    events.APIGatewayProxyRequest
		want string
	}{
		// A custom domain mapped at /mt: the path has the base path, the resource does not.
		{events.APIGatewayProxyRequest{Path: "/mt/v7/token", Resource: "/{version}/token", PathParameters: map[string]string{"version": "v7"}}, "/v7/token"},
		{events.APIGatewayProxyRequest{Path: "/mt/v7/token.json", Resource: "/{version}/{proxy+}", PathParameters: map[string]string{"version": "v7", "proxy": "token.json"}}, "/v7/token.json"},
		{events.APIGatewayProxyRequest{Path: "/mt/", Resource: "/"}, "/"},
		// The default execute-api URL: event.path already lacks the stage.
		{events.APIGatewayProxyRequest{Path: "/v4/authentication", Resource: "/{version}/authentication", PathParameters: map[string]string{"version": "v4"}}, "/v4/authentication"},
		// No resource (a hand-written event): the path as it is.
		{events.APIGatewayProxyRequest{Path: "/v4/token"}, "/v4/token"},
		{events.APIGatewayProxyRequest{Path: "/v4/token", Resource: "/{version}/token"}, "/v4/token"},
	} {
		if got := NewRequest(context.Background(), tt.e).URL.Path; got != tt.want {
			t.Errorf("path %q resource %q: routed as %q, want %q", tt.e.Path, tt.e.Resource, got, tt.want)
		}
	}
}
