package mtauth_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// actionRecorder stands between functions and moto_server and notes the
// IAM action each DynamoDB request needs, so each function's policy can
// be held to exactly what it calls.
type actionRecorder struct {
	URL     string
	mu      sync.Mutex
	actions map[string]bool
}

func newActionRecorder(t *testing.T, dynamoDB string) *actionRecorder {
	t.Helper()
	target, err := url.Parse(dynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	r := &actionRecorder{actions: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.record(iamActions(req.Header.Get("X-Amz-Target"), body))
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *actionRecorder) record(actions []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range actions {
		r.actions[a] = true
	}
}

// Actions returns the actions recorded so far, sorted.
func (r *actionRecorder) Actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.actions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// iamActions maps a DynamoDB request to the IAM actions it needs. The
// transactions have no action of their own: TransactGetItems needs
// GetItem, TransactWriteItems the action of each item it holds.
func iamActions(target string, body []byte) []string {
	op := target[strings.LastIndex(target, ".")+1:]
	switch op {
	case "TransactGetItems":
		return []string{"dynamodb:GetItem"}
	case "TransactWriteItems":
		var in struct{ TransactItems []map[string]json.RawMessage }
		if err := json.Unmarshal(body, &in); err != nil {
			return []string{"dynamodb:TransactWriteItems(unreadable)"}
		}
		item := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
		var out []string
		for _, it := range in.TransactItems {
			for kind := range it {
				out = append(out, "dynamodb:"+item[kind])
			}
		}
		return out
	}
	return []string{"dynamodb:" + op}
}
