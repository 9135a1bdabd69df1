package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	project "github.com/mtauth/mtauth"
	"github.com/mtauth/mtauth/pkg/apigw"
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/localapi"
	"github.com/mtauth/mtauth/pkg/logctx"
	"github.com/mtauth/mtauth/pkg/password"
	"github.com/mtauth/mtauth/pkg/samtemplate"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
	"github.com/mtauth/mtauth/pkg/storage/embedded"
)

// userFlag collects repeated --user NAME:SIGNIN_PASSWORD:WEB_SERVICES_PASSWORD.
type userFlag [][3]string

func (u *userFlag) String() string { return "" }

func (u *userFlag) Set(v string) error {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return errors.New("want NAME:SIGNIN_PASSWORD:WEB_SERVICES_PASSWORD, none of them empty")
	}
	*u = append(*u, [3]string(parts))
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "mtauth serve [--addr HOST:PORT] [--user NAME:SIGNIN_PASSWORD:WEB_SERVICES_PASSWORD ...]\n\n"+
		"Serves the Data API locally, each request turned into the API Gateway event the\n"+
		"deployed functions receive. Uses an embedded in-memory DynamoDB unless\n"+
		"AWS_ENDPOINT_URL_DYNAMODB is set (the table is then created if missing).\n", stderr, true)
	addr := fs.String("addr", "127.0.0.1:3000", "`address` to listen on (port 0 picks a free one)")
	var users userFlag
	fs.Var(&users, "user", "create or update an active user allowed to sign in, as `NAME:SIGNIN_PASSWORD:WEB_SERVICES_PASSWORD` (repeatable)")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		fs.Usage()
		return errUsage
	}
	settings, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(logctx.NewHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: settings.LogLevel})))
	db, where, err := localDynamoDB(ctx, settings.TableName)
	if err != nil {
		return err
	}
	a := app.New(settings, db, time.Now, log)
	if err := seedUsers(ctx, a, users, stdout); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	gw, err := gateway(a, log)
	if err != nil {
		return fmt.Errorf("routes from template.yaml: %w", err)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "mtauth: serving the Data API at http://%s/ (DynamoDB: %s, table %s); Ctrl-C stops\n", ln.Addr(), where, settings.TableName)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Fprintln(stdout, "mtauth: stopping")
	// Shutdown waits for in-flight requests, and for connections a client
	// opened but never used (which net/http only treats as idle after 5 s);
	// past the grace period the rest are closed.
	if err := srv.Shutdown(shutdown); errors.Is(err, context.DeadlineExceeded) {
		return srv.Close()
	} else if err != nil {
		return err
	}
	return nil
}

// gateway routes requests exactly as API Gateway routes them for the
// embedded template.yaml: its routes, each function's code package
// (Metadata.GoPackage, whose endpoints pkg/app lists) and its gateway
// responses. So `mtauth serve` cannot disagree with the deployed API.
func gateway(a *app.App, log *slog.Logger) (*localapi.Gateway, error) {
	tpl, err := samtemplate.Parse(project.Template)
	if err != nil {
		return nil, err
	}
	return localapi.FromTemplate(tpl, func(f samtemplate.Function) (func() lambda.Handler, error) {
		serves, err := app.Serves(f.GoPackage())
		if err != nil {
			return nil, err
		}
		h := apigw.Handler(a.API.Handler(serves...))
		return func() lambda.Handler { return lambda.NewHandler(h) }, nil
	}, log)
}

// localDynamoDB returns the DynamoDB serve uses and says which it is.
func localDynamoDB(ctx context.Context, table string) (dynamo.API, string, error) {
	if endpoint := os.Getenv(dynamo.LocalEndpointVariable); endpoint != "" {
		client, err := dynamo.NewClient(ctx)
		if err != nil {
			return nil, "", err
		}
		if err := dynamo.CreateTable(ctx, client, table); err != nil {
			return nil, "", err
		}
		return client, endpoint, nil
	}
	db, err := embedded.New(ctx, table)
	return db, "embedded in-memory", err
}

// seedUsers applies --user; with no users at all, it creates "admin" with
// generated passwords and prints them, once.
func seedUsers(ctx context.Context, a *app.App, users userFlag, stdout io.Writer) error {
	for _, u := range users {
		if err := a.Service.EnsureSignInUser(ctx, u[0], u[1], u[2]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "mtauth: user %s is active and may sign in\n", u[0])
	}
	existing, err := a.Service.ListUsers(ctx)
	if err != nil || len(existing) > 0 {
		return err
	}
	signIn, _ := password.Generate()
	webServices, _ := password.Generate()
	if err := a.Service.EnsureSignInUser(ctx, "admin", signIn, webServices); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mtauth: created user admin (shown once)\n  sign-in password (v1, v2):       %s\n  web services password (v3..v7):  %s\n", signIn, webServices)
	return nil
}
