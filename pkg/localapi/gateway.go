// Package localapi is a local stand-in for API Gateway: it matches each
// HTTP request to a route, builds the proxy event API Gateway would send,
// invokes the route's Lambda handler through the Lambda library's own JSON
// decoding, and writes the proxy response back, like `sam local start-api`
// without Docker. Its routes and its own error answers come from
// template.yaml (FromTemplate), so it cannot disagree with the deployed API.
package localapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/samtemplate"
)

// Gateway serves HTTP by invoking the matching route's function.
type Gateway struct {
	Routes []Route
	// Responses are the API's customized gateway responses, by type
	// (MISSING_AUTHENTICATION_TOKEN, DEFAULT_5XX, ...). Types missing
	// here fall back to DEFAULT_4XX or DEFAULT_5XX, then to what API
	// Gateway answers when nothing is customized.
	Responses map[string]samtemplate.GatewayResponse
	Stage     string
	Log       *slog.Logger

	instances sync.Map // function name -> *sync.Pool of its idle handlers
}

// The gateway response types this stand-in can produce.
const (
	MissingAuthenticationToken = "MISSING_AUTHENTICATION_TOKEN"
	RequestTooLarge            = "REQUEST_TOO_LARGE"
	Default4XX                 = "DEFAULT_4XX"
	Default5XX                 = "DEFAULT_5XX"
)

// builtin is what API Gateway answers for a response type nobody
// customized.
var builtin = map[string]struct {
	status  int
	message string
}{
	MissingAuthenticationToken: {http.StatusForbidden, "Missing Authentication Token"},
	RequestTooLarge:            {http.StatusRequestEntityTooLarge, "Request Too Long"},
	Default4XX:                 {http.StatusBadRequest, "Bad Request"},
	Default5XX:                 {http.StatusBadGateway, "Internal server error"},
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	route, params, ok := g.Match(r.Method, r.URL.Path)
	if !ok {
		g.writeGatewayResponse(w, MissingAuthenticationToken, requestID)
		return
	}
	event, err := apigw.NewEvent(r, apigw.Route{Resource: route.Resource, PathParameters: params}, g.Stage, requestID)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		g.writeGatewayResponse(w, RequestTooLarge, requestID)
		return
	} else if err != nil {
		g.writeGatewayResponse(w, Default4XX, requestID)
		return
	}
	resp, err := g.invoke(r.Context(), route, event)
	if err != nil {
		// API Gateway answers a failed or malformed invocation itself.
		g.Log.Error("function failed", "function", route.Function, "requestId", requestID, "error", err.Error())
		g.writeGatewayResponse(w, Default5XX, requestID)
		return
	}
	if err := apigw.WriteResponse(w, resp); err != nil {
		g.Log.Error("bad function response", "function", route.Function, "error", err.Error())
	}
	g.Log.Info("request", "method", r.Method, "path", r.URL.Path, "function", route.Function,
		"status", resp.StatusCode, "ms", time.Since(start).Milliseconds(), "requestId", requestID)
}

// invoke runs an idle instance of the route's function on the event's
// JSON, exactly as the Lambda runtime would, and decodes its answer as
// strictly as API Gateway does: a key it does not know makes the response
// malformed.
func (g *Gateway) invoke(ctx context.Context, route Route, event events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	pool, _ := g.instances.LoadOrStore(route.Function, &sync.Pool{New: func() any { return route.Instance() }})
	h := pool.(*sync.Pool).Get().(lambda.Handler)
	out, err := h.Invoke(ctx, payload)
	// The output is copied out of the instance's buffer before the
	// instance may serve another invocation.
	out = bytes.Clone(out)
	pool.(*sync.Pool).Put(h)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	var resp events.APIGatewayProxyResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("malformed proxy response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("malformed proxy response: statusCode %d", resp.StatusCode)
	}
	return resp, nil
}

// writeGatewayResponse answers as API Gateway does for an error it makes
// itself, customized as the template says.
func (g *Gateway) writeGatewayResponse(w http.ResponseWriter, typ, requestID string) {
	status, headers, body := g.gatewayResponse(typ, requestID)
	for name, v := range headers {
		w.Header().Set(name, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
	g.Log.Info("gateway response", "type", typ, "status", status, "requestId", requestID)
}

// gatewayResponse returns the status, headers and body for a response
// type: the type's own customization, else its class's default (whose
// status, when set, API Gateway applies to the whole class), else API
// Gateway's built-in answer.
func (g *Gateway) gatewayResponse(typ, requestID string) (int, map[string]string, string) {
	def, ok := builtin[typ]
	if !ok {
		def = builtin[Default5XX]
	}
	class := Default4XX
	if def.status >= 500 {
		class = Default5XX
	}
	custom, ok := g.Responses[typ]
	if !ok {
		custom = g.Responses[class]
	}
	status := def.status
	if custom.StatusCode != 0 {
		status = custom.StatusCode
	}
	body, ok := custom.Templates["application/json"]
	if !ok {
		quoted, _ := json.Marshal(def.message)
		body = `{"message":` + string(quoted) + `}`
	}
	return status, custom.Headers, renderTemplate(body, def.message, requestID)
}

// renderTemplate substitutes the $context variables a gateway response
// template may use that this stand-in knows.
func renderTemplate(body, message, requestID string) string {
	quoted, _ := json.Marshal(message)
	return strings.NewReplacer(
		"$context.error.messageString", string(quoted),
		"$context.error.message", message,
		"$context.requestId", requestID,
	).Replace(body)
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
