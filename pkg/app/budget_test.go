package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/dataapi"
	"github.com/mtauth/mtauth/pkg/storage/dynamo/dynamotest"
	"github.com/mtauth/mtauth/pkg/storage/embedded"
)

// recording records, in order, the operation of every DynamoDB call made
// through its hook (wrap the database with dynamotest.Intercept).
type recording struct {
	mu    sync.Mutex
	calls []string
}

// hook is a dynamotest.Hook: it notes op, then makes the call.
func (r *recording) hook(ctx context.Context, op string, call func(context.Context) error) error {
	r.mu.Lock()
	r.calls = append(r.calls, op)
	r.mu.Unlock()
	return call(ctx)
}

// take returns the calls recorded since the last take.
func (r *recording) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	r.calls = nil
	return calls
}

// TestRoundTripBudget pins the DynamoDB calls each request makes, in
// order: each is a round trip a user waits for. Every endpoint stays
// within two round trips; the global check on a sign-in adds two.
func TestRoundTripBudget(t *testing.T) {
	settings, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := embedded.New(t.Context(), settings.TableName)
	if err != nil {
		t.Fatal(err)
	}
	db := &recording{}
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	a := app.New(settings, dynamotest.Intercept(embedded, db.hook), func() time.Time { return now }, slog.New(slog.DiscardHandler))
	handler := apigw.Handler(a.API.Handler(dataapi.Endpoints...))
	pw, err := a.Service.AddUser(t.Context(), auth.NewUser{Username: "melody", Permissions: []string{auth.PermissionSignInDataAPI}})
	if err != nil {
		t.Fatal(err)
	}

	// send makes one request as API Gateway would deliver it and returns
	// the string fields of its JSON answer, failing the test unless the
	// answer has status want.
	send := func(t *testing.T, want int, method, path, authorization string, form url.Values) map[string]string {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		if form != nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if authorization != "" {
			r.Header.Set("X-MT-Authorization", authorization)
		}
		event, err := apigw.NewEvent(r, apigw.Route{Resource: "/{proxy+}"}, "Prod", "request-id")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := handler(t.Context(), event)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s %v", method, path, resp.StatusCode, resp.Body, err)
		}
		var body map[string]any
		if resp.Body != "" {
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
		}
		strs := map[string]string{}
		for k, v := range body {
			if s, ok := v.(string); ok {
				strs[k] = s
			}
		}
		return strs
	}
	signInForm := url.Values{"clientId": {"budget"}, "username": {"melody"}, "password": {pw}}
	wrongPassword := url.Values{"clientId": {"budget"}, "username": {"melody"}, "password": {"wrong"}}
	bySessionID := func(id, _ string) string { return "MTAuth sessionId=" + id }
	byAccessToken := func(_, token string) string { return "MTAuth accessToken=" + token }
	unknownToken := func(_, _ string) string { return "MTAuth accessToken=unknown" }
	revoke := url.Values{"__method": {"DELETE"}}
	signInCalls := []string{"TransactGetItems", "TransactWriteItems"}
	credentialCalls := []string{"GetItem", "TransactWriteItems"}

	for _, tt := range []struct {
		name         string
		method, path string
		// authorization, if set, makes the X-MT-Authorization header from
		// a new session's id and access token.
		authorization func(sessionID, accessToken string) string
		form          url.Values
		status        int
		want          []string
	}{
		// The user and both lockout counters in one read; the session, its
		// first token and the reset of the user's counter in one write.
		{"sign in", http.MethodPost, "/v4/authentication", nil, signInForm, http.StatusOK, signInCalls},
		// The global check reads the token, then its session and user.
		{"sign in with the global check", http.MethodPost, "/v4/authentication", byAccessToken, signInForm, http.StatusOK,
			[]string{"GetItem", "TransactGetItems", "TransactGetItems", "TransactWriteItems"}},
		{"new token by session id", http.MethodPost, "/v4/token", bySessionID, nil, http.StatusOK, credentialCalls},
		{"new token by access token", http.MethodPost, "/v4/token", byAccessToken, nil, http.StatusOK, credentialCalls},
		{"revoke token", http.MethodDelete, "/v4/token", byAccessToken, nil, http.StatusOK, credentialCalls},
		{"revoke token by __method", http.MethodPost, "/v4/token", byAccessToken, revoke, http.StatusOK, credentialCalls},
		{"sign out by session id", http.MethodDelete, "/v4/authentication", bySessionID, nil, http.StatusOK, credentialCalls},
		{"sign out by access token", http.MethodDelete, "/v4/authentication", byAccessToken, nil, http.StatusOK, credentialCalls},
		// The user's and the IP's failure counters are updated concurrently.
		{"refused sign-in", http.MethodPost, "/v4/authentication", nil, wrongPassword, http.StatusUnauthorized,
			[]string{"TransactGetItems", "UpdateItem", "UpdateItem"}},
		{"sign in after a refusal", http.MethodPost, "/v4/authentication", nil, signInForm, http.StatusOK, signInCalls},
		{"unknown access token", http.MethodPost, "/v4/token", unknownToken, nil, http.StatusUnauthorized, []string{"GetItem"}},
		{"no credentials", http.MethodPost, "/v4/token", nil, nil, http.StatusUnauthorized, nil},
		{"OPTIONS", http.MethodOptions, "/v4/token", unknownToken, nil, http.StatusOK, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			authorization := ""
			if tt.authorization != nil {
				session := send(t, http.StatusOK, http.MethodPost, "/v4/authentication", "", signInForm)
				authorization = tt.authorization(session["sessionId"], session["accessToken"])
			}
			db.take()
			send(t, tt.status, tt.method, tt.path, authorization, tt.form)
			if got := db.take(); !slices.Equal(got, tt.want) {
				t.Errorf("DynamoDB calls %v, want %v", got, tt.want)
			}
		})
	}
}
