// Package dataapi implements the Movable Type Data API's authentication
// endpoints over net/http: versions, routes, the __method override,
// suppressResponseCodes, the X-MT-Authorization header and its global
// check, and every status code and message. What happens is decided by
// the auth service; this package only translates.
package dataapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/logctx"
)

// Service is what the endpoints call; *auth.Service implements it.
type Service interface {
	SignIn(ctx context.Context, req auth.SignInRequest) (auth.Grant, error)
	CheckAccessToken(ctx context.Context, accessToken string) error
	IssueToken(ctx context.Context, creds auth.Credentials) (auth.Token, error)
	RevokeToken(ctx context.Context, creds auth.Credentials) error
	SignOut(ctx context.Context, creds auth.Credentials) error
}

var _ Service = (*auth.Service)(nil)

// API serves the Data API's authentication endpoints.
type API struct {
	svc Service
	log *slog.Logger
}

// New returns the API over svc.
func New(svc Service, log *slog.Logger) *API {
	return &API{svc: svc, log: log}
}

// Handler returns the handler of the function that serves the given
// endpoints. A POST endpoint's function also serves the endpoints of the
// same path reached with __method (POST /token with __method=DELETE is
// revoke_token), because API Gateway routes such requests by their real
// verb. Requests for any other endpoint get 404 Unknown endpoint.
func (a *API) Handler(serves ...Endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, serves)
	})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, serves []Endpoint) {
	setCommonHeaders(w.Header())
	req, apiErr := parseRequest(w, r)
	if apiErr != nil {
		writeError(w, apiErr, req.suppress)
		return
	}
	rt, apiErr := parseRoute(r.URL.Path)
	if apiErr != nil {
		writeError(w, apiErr, req.suppress)
		return
	}
	methods := methodsFor(rt.path)
	if methods != nil && r.Method == http.MethodOptions {
		// Preflights never check credentials, so they never fail.
		w.Header().Set("Allow", strings.Join(append(methods, http.MethodOptions), ", "))
		w.WriteHeader(http.StatusOK)
		return
	}
	ep, ok := lookup(req.method, rt.path)
	if !ok || !reachable(ep, req.realMethod, serves) {
		writeError(w, errUnknownEndpoint, req.suppress)
		return
	}
	ctx := logctx.With(r.Context(), slog.String("endpoint", ep.ID), slog.Int("version", rt.version))
	creds := credentials(req.auth)

	switch ep {
	case Authenticate:
		a.authenticate(ctx, w, req, rt, creds)
	case GetToken:
		token, err := a.svc.IssueToken(ctx, creds)
		a.respond(ctx, w, req, err, func() any {
			return tokenResponse{AccessToken: token.AccessToken, ExpiresIn: int64(token.ExpiresIn.Seconds())}
		})
	case RevokeToken:
		err := a.svc.RevokeToken(ctx, creds)
		a.respond(ctx, w, req, err, func() any { return success })
	case RevokeAuthentication:
		err := a.svc.SignOut(ctx, creds)
		a.respond(ctx, w, req, err, func() any { return success })
	}
}

// reachable reports whether a function serving `serves` answers ep when
// the request's real verb was realMethod.
func reachable(ep Endpoint, realMethod string, serves []Endpoint) bool {
	for _, s := range serves {
		if s == ep || (s.Method == http.MethodPost && s.Method == realMethod && s.Path == ep.Path) {
			return true
		}
	}
	return false
}

func (a *API) authenticate(ctx context.Context, w http.ResponseWriter, req *request, rt route, creds auth.Credentials) {
	// The global check: a presented access token must work, even though
	// signing in does not use it.
	if creds.AccessTokenPresented {
		if err := a.svc.CheckAccessToken(ctx, creds.AccessToken); err != nil {
			a.respond(ctx, w, req, err, nil)
			return
		}
	}
	id, ok := clientID(req.params)
	if !ok {
		writeError(w, errBadRequest, req.suppress)
		return
	}
	check := auth.WebServicesPassword
	if rt.version <= 2 {
		check = auth.SignInPassword
	}
	grant, err := a.svc.SignIn(ctx, auth.SignInRequest{
		Username: req.params.Get("username"), Password: req.params.Get("password"),
		Check: check, ClientID: id, Remember: flag(req.params, "remember"),
	})
	a.respond(ctx, w, req, err, func() any {
		return signInResponse{
			AccessToken: grant.AccessToken, ExpiresIn: int64(grant.ExpiresIn.Seconds()),
			Remember: grant.Remember, SessionID: grant.SessionID,
		}
	})
}

// respond writes the success answer, or the Data API error for err.
func (a *API) respond(ctx context.Context, w http.ResponseWriter, req *request, err error, answer func() any) {
	switch {
	case err == nil:
		writeJSON(w, answer())
	case errors.Is(err, auth.ErrInvalidLogin):
		writeError(w, errInvalidLogin, req.suppress)
	case errors.Is(err, auth.ErrUnauthorized):
		writeError(w, errUnauthorized, req.suppress)
	case errors.Is(err, auth.ErrUnavailable):
		writeError(w, errServiceUnavailable, req.suppress)
	default:
		a.log.ErrorContext(ctx, "unexpected error", "error", err.Error())
		writeError(w, errInternal, req.suppress)
	}
}

// credentials picks the MTAuth keys the service understands.
func credentials(a Authorization) auth.Credentials {
	token, presented := a[keyAccessToken]
	return auth.Credentials{SessionID: a[keySessionID], AccessToken: token, AccessTokenPresented: presented}
}
