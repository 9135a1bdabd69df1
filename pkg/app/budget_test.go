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

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/dataapi"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

// recording is a dynamo.API that records, in order, the operation of
// every call made through it.
type recording struct {
	dynamo.API
	mu    sync.Mutex
	calls []string
}

func record[In, Out any](r *recording, op string, call func(context.Context, In, ...func(*dynamodb.Options)) (Out, error),
	ctx context.Context, in In, opts []func(*dynamodb.Options)) (Out, error) {
	r.mu.Lock()
	r.calls = append(r.calls, op)
	r.mu.Unlock()
	return call(ctx, in, opts...)
}

func (r *recording) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return record(r, "GetItem", r.API.GetItem, ctx, in, opts)
}

func (r *recording) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return record(r, "PutItem", r.API.PutItem, ctx, in, opts)
}

func (r *recording) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return record(r, "DeleteItem", r.API.DeleteItem, ctx, in, opts)
}

func (r *recording) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return record(r, "Scan", r.API.Scan, ctx, in, opts)
}

func (r *recording) TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	return record(r, "TransactGetItems", r.API.TransactGetItems, ctx, in, opts)
}

func (r *recording) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return record(r, "TransactWriteItems", r.API.TransactWriteItems, ctx, in, opts)
}

// take returns the calls recorded since the last take.
func (r *recording) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	r.calls = nil
	return calls
}

// TestRoundTripBudget pins how many DynamoDB calls, one after another,
// each request costs: each is a round trip a user waits for. Every
// endpoint stays within two; the global check on a sign-in adds two.
func TestRoundTripBudget(t *testing.T) {
	settings, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := dynamo.NewEmbedded(t.Context(), settings.TableName)
	if err != nil {
		t.Fatal(err)
	}
	db := &recording{API: embedded}
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	a := app.New(settings, db, func() time.Time { return now }, slog.New(slog.DiscardHandler))
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
	// signIn returns a new session's id and access token.
	signIn := func(t *testing.T) (sessionID, accessToken string) {
		t.Helper()
		body := send(t, http.StatusOK, http.MethodPost, "/v4/authentication", "", signInForm)
		return body["sessionId"], body["accessToken"]
	}

	for _, tt := range []struct {
		name string
		// request makes the request measured, after any setup it needs.
		request func(t *testing.T)
		want    []string
	}{
		{"sign in", func(t *testing.T) { signIn(t) },
			[]string{"GetItem", "TransactWriteItems"}},
		{"sign in with the global check", func(t *testing.T) {
			_, token := signIn(t)
			db.take()
			send(t, http.StatusOK, http.MethodPost, "/v4/authentication", "MTAuth accessToken="+token, signInForm)
		}, []string{"GetItem", "TransactGetItems", "GetItem", "TransactWriteItems"}},
		{"new token by session id", func(t *testing.T) {
			id, _ := signIn(t)
			db.take()
			send(t, http.StatusOK, http.MethodPost, "/v4/token", "MTAuth sessionId="+id, nil)
		}, []string{"GetItem", "TransactWriteItems"}},
		{"new token by access token", func(t *testing.T) {
			_, token := signIn(t)
			db.take()
			send(t, http.StatusOK, http.MethodPost, "/v4/token", "MTAuth accessToken="+token, nil)
		}, []string{"GetItem", "TransactWriteItems"}},
		{"revoke token", func(t *testing.T) {
			_, token := signIn(t)
			db.take()
			send(t, http.StatusOK, http.MethodDelete, "/v4/token", "MTAuth accessToken="+token, nil)
		}, []string{"GetItem", "TransactWriteItems"}},
		{"revoke token by __method", func(t *testing.T) {
			_, token := signIn(t)
			db.take()
			send(t, http.StatusOK, http.MethodPost, "/v4/token", "MTAuth accessToken="+token, url.Values{"__method": {"DELETE"}})
		}, []string{"GetItem", "TransactWriteItems"}},
		{"sign out by session id", func(t *testing.T) {
			id, _ := signIn(t)
			db.take()
			send(t, http.StatusOK, http.MethodDelete, "/v4/authentication", "MTAuth sessionId="+id, nil)
		}, []string{"GetItem", "TransactWriteItems"}},
		{"sign out by access token", func(t *testing.T) {
			_, token := signIn(t)
			db.take()
			send(t, http.StatusOK, http.MethodDelete, "/v4/authentication", "MTAuth accessToken="+token, nil)
		}, []string{"GetItem", "TransactWriteItems"}},
		{"refused sign-in", func(t *testing.T) {
			send(t, http.StatusUnauthorized, http.MethodPost, "/v4/authentication", "",
				url.Values{"clientId": {"budget"}, "username": {"melody"}, "password": {"wrong"}})
		}, []string{"GetItem"}},
		{"unknown access token", func(t *testing.T) {
			send(t, http.StatusUnauthorized, http.MethodPost, "/v4/token", "MTAuth accessToken=unknown", nil)
		}, []string{"GetItem"}},
		{"no credentials", func(t *testing.T) {
			send(t, http.StatusUnauthorized, http.MethodPost, "/v4/token", "", nil)
		}, nil},
		{"OPTIONS", func(t *testing.T) {
			send(t, http.StatusOK, http.MethodOptions, "/v4/token", "MTAuth accessToken=bogus", nil)
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db.take()
			tt.request(t)
			if got := db.take(); !slices.Equal(got, tt.want) {
				t.Errorf("DynamoDB calls %v, want %v", got, tt.want)
			}
		})
	}
}
