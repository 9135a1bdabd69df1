// Package dataapi implements the Movable Type Data API's authentication
// endpoints over net/http: versions, routes, the __method override,
// suppressResponseCodes, the X-MT-Authorization header and its global
// check, the browser sign-in screen and its cookies, CORS, and every status
// code and message. What happens is decided by the auth service; this
// package only translates.
package dataapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/logctx"
)

// Service is what the endpoints call; *auth.Service implements it.
type Service interface {
	SignIn(ctx context.Context, req auth.SignInRequest) (auth.Grant, error)
	SignInForOneTimeToken(ctx context.Context, req auth.SignInRequest) (string, error)
	ExchangeOneTimeToken(ctx context.Context, oneTimeToken string) (auth.Grant, error)
	CheckAccessToken(ctx context.Context, accessToken string) error
	IPLockedOut(ctx context.Context, ip string) (bool, error)
	IssueToken(ctx context.Context, creds auth.Credentials) (auth.Token, error)
	RevokeToken(ctx context.Context, creds auth.Credentials) error
	SignOut(ctx context.Context, creds auth.Credentials) error
}

var _ Service = (*auth.Service)(nil)

// Options are the operator's settings this layer applies.
type Options struct {
	// RedirectHosts are the hosts, besides the API's own, that the
	// browser sign-in may redirect to.
	RedirectHosts []string
	CORS          config.CORS
}

// API serves the Data API's authentication endpoints.
type API struct {
	svc  Service
	opts Options
	log  *slog.Logger
}

// New returns the API over svc.
func New(svc Service, opts Options, log *slog.Logger) *API {
	return &API{svc: svc, opts: opts, log: log}
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
	setCORSHeaders(w.Header(), r, a.opts.CORS)
	if r.Method == http.MethodOptions && answerPreflight(w, r) {
		return
	}
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
	ep, ok := lookup(req.method, rt.path)
	if !ok || !reachable(ep, req.realMethod, serves) {
		writeError(w, errUnknownEndpoint, req.suppress)
		return
	}
	ctx := logctx.With(r.Context(), slog.String("endpoint", ep.ID), slog.Int("version", rt.version))
	creds := credentials(req.auth)

	// The global check: a presented access token must work before any
	// endpoint runs. Endpoints that act on the token check it within
	// their own storage calls, so it is checked here only for the others.
	if creds.AccessTokenPresented && (ep == Authenticate || ep == Authorize) {
		if err := a.svc.CheckAccessToken(ctx, creds.AccessToken); err != nil {
			a.respond(ctx, w, req, err, nil)
			return
		}
	}

	switch ep {
	case Authenticate:
		a.authenticate(ctx, w, r, req, rt)
	case Authorize:
		a.authorize(ctx, w, r, req, rt)
	case GetToken:
		a.getToken(ctx, w, r, req, creds)
	case RevokeToken:
		err := a.svc.RevokeToken(ctx, creds)
		a.respond(ctx, w, req, err, func() any { return success })
	case RevokeAuthentication:
		err := a.svc.SignOut(ctx, creds)
		if id, ok := clientID(req.params); ok && err == nil {
			http.SetCookie(w, expiredCookie(r, userCookiePrefix+id, true))
		}
		a.respond(ctx, w, req, err, func() any { return success })
	}
}

// answerPreflight answers OPTIONS on a known path with its verbs, before
// any parameter, __method or credential is looked at, so that preflights
// never fail. It reports false for an unknown path.
func answerPreflight(w http.ResponseWriter, r *http.Request) bool {
	rt, apiErr := parseRoute(r.URL.Path)
	if apiErr != nil {
		return false
	}
	methods := methodsFor(rt.path)
	if methods == nil {
		return false
	}
	w.Header().Set("Allow", strings.Join(append(methods, http.MethodOptions), ", "))
	w.WriteHeader(http.StatusOK)
	return true
}

// reachable reports whether a function serving `serves` answers ep when
// the request's real verb was realMethod.
func reachable(ep Endpoint, realMethod string, serves []Endpoint) bool {
	for _, s := range serves {
		if s == ep || (s.Method == http.MethodPost && realMethod == http.MethodPost && s.Path == ep.Path) {
			return true
		}
	}
	return false
}

// authenticate serves sign-in: JSON for API clients, and for posts from
// the sign-in screen (magic token matching its cookie) the browser flows
// of Movable Type: the session cookie ("app") or a one-time token
// ("blog"), answered with a redirect when the post came without script.
func (a *API) authenticate(ctx context.Context, w http.ResponseWriter, r *http.Request, req *request, rt route) {
	id, ok := clientID(req.params)
	if !ok {
		writeError(w, errBadRequest, req.suppress)
		return
	}
	check := auth.WebServicesPassword
	if rt.version <= 2 {
		check = auth.SignInPassword
	}
	signIn := auth.SignInRequest{
		Username: req.params.Get("username"), Password: req.params.Get("password"),
		Check: check, ClientID: id, Remember: flag(req.params, "remember"), ClientIP: clientIP(r),
	}
	browser := readBrowserSignIn(r, req, a.opts.RedirectHosts)
	if req.params.Get("redirect_type") == "blog" {
		token, err := a.svc.SignInForOneTimeToken(ctx, signIn)
		if !browser.answered(w, r, err, signIn, "_ott_"+token) {
			a.respond(ctx, w, req, err, func() any { return oneTimeTokenResponse{OneTimeToken: token} })
		}
		return
	}
	grant, err := a.svc.SignIn(ctx, signIn)
	answer := signInResponse{
		AccessToken: grant.AccessToken, ExpiresIn: int64(grant.ExpiresIn.Seconds()),
		Remember: grant.Remember, SessionID: grant.SessionID,
	}
	if err == nil && browser.magicOK {
		// The browser keeps the session in an HttpOnly cookie instead of
		// script-readable JSON.
		http.SetCookie(w, userCookie(r, id, signIn.Username, grant.SessionID, grant.Remember))
		answer.SessionID = ""
		if browser.formPost && browser.targetOK && browser.target.sameHost {
			http.SetCookie(w, accessTokenJSONCookie(r, answer))
		}
	}
	if !browser.answered(w, r, err, signIn, "_login") {
		a.respond(ctx, w, req, err, func() any { return answer })
	}
}

// getToken serves POST /token. Credentials, in order: the access token
// (already checked by the global check), a one-time token (answered with
// the whole sign-in response), a session id, the browser's session cookie
// for clientId.
func (a *API) getToken(ctx context.Context, w http.ResponseWriter, r *http.Request, req *request, creds auth.Credentials) {
	if oneTime, ok := req.auth[keyOneTimeToken]; ok && !creds.AccessTokenPresented {
		grant, err := a.svc.ExchangeOneTimeToken(ctx, oneTime)
		a.respond(ctx, w, req, err, func() any {
			return signInResponse{AccessToken: grant.AccessToken, ExpiresIn: int64(grant.ExpiresIn.Seconds()), Remember: grant.Remember, SessionID: grant.SessionID}
		})
		return
	}
	if !creds.AccessTokenPresented && creds.SessionID == "" {
		if id, ok := clientID(req.params); ok {
			if user, session, ok := sessionFromCookie(r, id); ok {
				creds.SessionUser, creds.SessionID, creds.SessionClientID = user, session, id
			}
		}
	}
	token, err := a.svc.IssueToken(ctx, creds)
	a.respond(ctx, w, req, err, func() any {
		return tokenResponse{AccessToken: token.AccessToken, ExpiresIn: int64(token.ExpiresIn.Seconds())}
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

// clientIP is the address the request came from as the network saw it
// (API Gateway's sourceIp, the TCP peer locally), never a header a client
// could forge such as X-Forwarded-For.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// credentials picks the MTAuth keys the service understands.
func credentials(a Authorization) auth.Credentials {
	token, presented := a[keyAccessToken]
	return auth.Credentials{SessionID: a[keySessionID], AccessToken: token, AccessTokenPresented: presented}
}
