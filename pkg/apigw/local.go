package apigw

import (
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// MaxEventBody is API Gateway's own limit on a request payload.
const MaxEventBody = 10 << 20

// ErrBodyTooLarge means a request is over API Gateway's payload limit; API
// Gateway would refuse it before any function ran.
var ErrBodyTooLarge = errors.New("apigw: request body over 10 MiB")

// Route is what API Gateway knows of a request before the function runs:
// the matched resource ("/{version}/token") and its path parameters.
type Route struct {
	Resource       string
	PathParameters map[string]string
}

// NewEvent turns an HTTP request into the event API Gateway would send for
// it to a REST proxy integration, as `sam local start-api` does: headers
// and query in both single- and multi-value form, the TCP peer as the
// source IP, and a body base64-encoded unless it is UTF-8 text.
func NewEvent(r *http.Request, route Route, stage, requestID string) (events.APIGatewayProxyRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBody+1))
	if err != nil {
		return events.APIGatewayProxyRequest{}, err
	}
	if len(body) > MaxEventBody {
		return events.APIGatewayProxyRequest{}, ErrBodyTooLarge
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	e := events.APIGatewayProxyRequest{
		Resource:          route.Resource,
		Path:              r.URL.Path,
		HTTPMethod:        r.Method,
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string{},
		PathParameters:    route.PathParameters,
		RequestContext: events.APIGatewayProxyRequestContext{
			ResourcePath: route.Resource,
			HTTPMethod:   r.Method,
			Path:         "/" + stage + r.URL.Path,
			Stage:        stage,
			RequestID:    requestID,
			Identity:     events.APIGatewayRequestIdentity{SourceIP: sourceIP},
		},
	}
	for name, values := range r.Header {
		e.Headers[name] = values[len(values)-1]
		e.MultiValueHeaders[name] = values
	}
	if r.Host != "" {
		e.Headers["Host"] = r.Host
		e.MultiValueHeaders["Host"] = []string{r.Host}
	}
	if query := r.URL.Query(); len(query) > 0 {
		e.QueryStringParameters = map[string]string{}
		e.MultiValueQueryStringParameters = map[string][]string(query)
		for name, values := range query {
			e.QueryStringParameters[name] = values[len(values)-1]
		}
	}
	if utf8.Valid(body) {
		e.Body = string(body)
	} else {
		e.Body = base64.StdEncoding.EncodeToString(body)
		e.IsBase64Encoded = true
	}
	return e, nil
}

// WriteResponse writes a proxy response to an HTTP client, as API Gateway
// does: single- and multi-value headers merged, base64 bodies decoded.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) error {
	for name, v := range resp.Headers {
		if _, multi := resp.MultiValueHeaders[name]; !multi {
			w.Header().Set(name, v)
		}
	}
	for name, values := range resp.MultiValueHeaders {
		for _, v := range values {
			w.Header().Add(name, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return err
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, err := io.Copy(w, strings.NewReader(string(body)))
	return err
}
