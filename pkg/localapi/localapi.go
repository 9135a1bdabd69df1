// Package localapi is a local stand-in for API Gateway: it matches each
// HTTP request to a route, builds the proxy event API Gateway would send,
// invokes the route's Lambda handler through the Lambda library's own JSON
// decoding, and writes the proxy response back, like `sam local start-api`
// without Docker.
package localapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mtauth/mtauth/pkg/apigw"
)

// Route sends requests with Method on Resource to a function. Resource
// uses API Gateway's syntax: "/{version}/token" matches one segment per
// {param}; "/{proxy+}" matches the rest of the path. Method "ANY" matches
// every verb.
type Route struct {
	Method   string
	Resource string
	Function string
	Handler  lambda.Handler
}

// Gateway serves HTTP by invoking the matching route's function.
type Gateway struct {
	Routes []Route
	Stage  string
	Log    *slog.Logger
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	route, params, ok := g.match(r.Method, r.URL.Path)
	if !ok {
		// What API Gateway answers for a path no resource matches.
		writeGatewayError(w, http.StatusForbidden, "Missing Authentication Token")
		return
	}
	requestID := newRequestID()
	event, err := apigw.NewEvent(r, apigw.Route{Resource: route.Resource, PathParameters: params}, g.Stage, requestID)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Too Long")
		return
	} else if err != nil {
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	resp, err := invoke(r.Context(), route.Handler, event)
	if err != nil {
		g.Log.Error("function failed", "function", route.Function, "requestId", requestID, "error", err.Error())
		writeGatewayError(w, http.StatusBadGateway, "Internal server error")
		return
	}
	if err := apigw.WriteResponse(w, resp); err != nil {
		g.Log.Error("bad function response", "function", route.Function, "error", err.Error())
	}
	g.Log.Info("request", "method", r.Method, "path", r.URL.Path, "function", route.Function,
		"status", resp.StatusCode, "ms", time.Since(start).Milliseconds(), "requestId", requestID)
}

// invoke runs the handler on the event's JSON, exactly as the Lambda
// runtime would, and decodes its answer.
func invoke(ctx context.Context, h lambda.Handler, event events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("decode function response: %w", err)
	}
	return resp, nil
}

// match finds the route for a request. Like API Gateway, a resource made
// of literal segments and {params} is preferred to a greedy {proxy+}.
func (g *Gateway) match(method, path string) (Route, map[string]string, bool) {
	var greedy *Route
	var greedyParams map[string]string
	for i := range g.Routes {
		rt := &g.Routes[i]
		if rt.Method != "ANY" && rt.Method != method {
			continue
		}
		params, isGreedy, ok := matchResource(rt.Resource, path)
		if !ok {
			continue
		}
		if !isGreedy {
			return *rt, params, true
		}
		if greedy == nil {
			greedy, greedyParams = rt, params
		}
	}
	if greedy != nil {
		return *greedy, greedyParams, true
	}
	return Route{}, nil, false
}

func matchResource(resource, path string) (params map[string]string, greedy, ok bool) {
	want := strings.Split(strings.Trim(resource, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	params = map[string]string{}
	for i, seg := range want {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			if i >= len(got) || got[i] == "" {
				return nil, true, false
			}
			params[strings.Trim(seg, "{+}")] = strings.Join(got[i:], "/")
			return params, true, true
		}
		if i >= len(got) {
			return nil, false, false
		}
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			if got[i] == "" {
				return nil, false, false
			}
			params[strings.Trim(seg, "{}")] = got[i]
		case seg != got[i]:
			return nil, false, false
		}
	}
	return params, false, len(want) == len(got)
}

func writeGatewayError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
