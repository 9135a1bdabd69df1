// Package app wires mtauth together from its settings: the DynamoDB
// store, the auth service and the Data API handlers. Lambda functions and
// the local server build the same thing here, so they cannot drift.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/dataapi"
	"github.com/mtauth/mtauth/pkg/logctx"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

// App is a configured mtauth.
type App struct {
	Settings config.Settings
	Store    *dynamo.Store
	Service  *auth.Service
	API      *dataapi.API
	Log      *slog.Logger
}

// New builds mtauth over a DynamoDB client. now is the clock.
func New(settings config.Settings, api dynamo.API, now func() time.Time, log *slog.Logger) *App {
	store := dynamo.New(api, settings.TableName)
	svc := auth.New(store, auth.Policy{
		Lifetimes: auth.Lifetimes{
			AccessToken:       settings.AccessTokenTTL,
			Session:           settings.SessionTimeout,
			RememberedSession: settings.RememberedSessionTimeout,
		},
		Lockout: settings.Lockout,
	}, now, log)
	return &App{Settings: settings, Store: store, Service: svc, API: dataapi.New(svc, dataapi.Options{RedirectHosts: settings.RedirectHosts, CORS: settings.CORS}, log), Log: log}
}

// NewLogger returns the JSON logger mtauth writes to w (stderr, which is
// CloudWatch Logs in Lambda), carrying each request's id and client IP.
// One JSON object per line is what CloudWatch Logs Insights queries.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(logctx.NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// lambdaFromEnv builds, once per cold start, the handler of a Lambda
// function serving the given endpoints, from the environment.
func lambdaFromEnv(ctx context.Context, serves ...dataapi.Endpoint) (apigw.LambdaHandler, error) {
	settings, err := config.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	client, err := dynamo.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamodb client: %w", err)
	}
	a := New(settings, client, time.Now, NewLogger(os.Stderr, settings.LogLevel))
	return apigw.Handler(a.API.Handler(serves...)), nil
}
