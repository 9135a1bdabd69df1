// Package apigw adapts net/http handlers to API Gateway REST API proxy
// integrations (payload format 1.0), the events Lambda hands a function
// behind API Gateway and the answers it expects back, and turns plain
// HTTP requests into such events for the local server.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mtauth/mtauth/pkg/logctx"
)

// DeadlineMargin is kept free at the end of an invocation for answering.
const DeadlineMargin = 500 * time.Millisecond

// LambdaHandler is the signature lambda.Start takes for a REST API proxy
// integration.
type LambdaHandler func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Handler adapts h to API Gateway: each event becomes an *http.Request,
// and what h writes becomes the proxy response. Errors in the event (a bad
// base64 body, say) surface as errors reading the request body, so h
// answers them as it answers any bad request.
//
// The request's context ends DeadlineMargin before the invocation's own
// deadline, so a slow database call is abandoned in time for the handler
// to still answer (503) instead of Lambda killing it mid-request.
func Handler(h http.Handler) LambdaHandler {
	return func(ctx context.Context, e events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		if deadline, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-DeadlineMargin))
			defer cancel()
		}
		r := NewRequest(ctx, e)
		rec := newRecorder()
		h.ServeHTTP(rec, r)
		return rec.response(), nil
	}
}

// NewRequest builds the *http.Request an event describes. The client IP is
// API Gateway's requestContext.identity.sourceIp (RemoteAddr), never a
// header the client could forge; it and the request id are also attached
// to the context's log attributes.
func NewRequest(ctx context.Context, e events.APIGatewayProxyRequest) *http.Request {
	ctx = logctx.With(ctx,
		slog.String("requestId", e.RequestContext.RequestID),
		slog.String("ip", e.RequestContext.Identity.SourceIP))

	header := http.Header{}
	if len(e.MultiValueHeaders) > 0 {
		for name, values := range e.MultiValueHeaders {
			for _, v := range values {
				header.Add(name, v)
			}
		}
	} else {
		for name, v := range e.Headers {
			header.Add(name, v)
		}
	}

	query := url.Values{}
	if len(e.MultiValueQueryStringParameters) > 0 {
		for name, values := range e.MultiValueQueryStringParameters {
			query[name] = append(query[name], values...)
		}
	} else {
		for name, v := range e.QueryStringParameters {
			query.Set(name, v)
		}
	}

	var body io.Reader = strings.NewReader(e.Body)
	contentLength := int64(len(e.Body))
	if e.IsBase64Encoded {
		body = base64.NewDecoder(base64.StdEncoding, strings.NewReader(e.Body))
		contentLength = -1
	}

	path := routedPath(e)
	r := &http.Request{
		Method:        e.HTTPMethod,
		URL:           &url.URL{Path: path, RawQuery: query.Encode()},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(body),
		ContentLength: contentLength,
		Host:          header.Get("Host"),
		RemoteAddr:    net.JoinHostPort(e.RequestContext.Identity.SourceIP, "0"),
		RequestURI:    path,
	}
	return r.WithContext(ctx)
}

// routedPath is the request path as the API's routes see it. Behind a
// custom domain with a base-path mapping, event.path carries the base path
// (/mt/v7/token) while the resource (/{version}/token) and its path
// parameters do not, so the path is rebuilt from those when the event has
// them, and taken as it is otherwise.
func routedPath(e events.APIGatewayProxyRequest) string {
	if e.Resource == "" {
		return e.Path
	}
	segments := strings.Split(e.Resource, "/")
	for i, seg := range segments {
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
			continue
		}
		value, ok := e.PathParameters[strings.Trim(seg, "{+}")]
		if !ok {
			return e.Path
		}
		segments[i] = value
	}
	return strings.Join(segments, "/")
}

// recorder collects what a handler writes.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// response returns the proxy response. Headers go in multiValueHeaders
// only, so repeated ones (Set-Cookie) survive; a body that is not valid
// UTF-8 text is sent base64-encoded.
func (r *recorder) response() events.APIGatewayProxyResponse {
	r.WriteHeader(http.StatusOK)
	resp := events.APIGatewayProxyResponse{StatusCode: r.status, MultiValueHeaders: map[string][]string(r.header)}
	if utf8.Valid(r.body.Bytes()) {
		resp.Body = r.body.String()
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(r.body.Bytes())
		resp.IsBase64Encoded = true
	}
	return resp
}
