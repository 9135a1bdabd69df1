package dataapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/secret"
)

// Cookie names of Movable Type's browser sign-in.
const (
	magicTokenCookie  = "mt_data_api_login_magic_token"
	accessTokenCookie = "mt_data_api_access_token"
	userCookiePrefix  = "mt_data_api_user_"
)

// rememberedCookieAge is how long the sign-in cookie of a remembered
// session is kept; without remember it lasts for the browser session.
const rememberedCookieAge = 365 * 24 * time.Hour

//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// signInPage is what the sign-in screen shows.
type signInPage struct {
	Nonce, ClientID, MagicToken, RedirectURL, Flow, Username, Error string
	// ReturnHost is where the user goes after signing in, shown so a
	// user can tell a genuine request from a phishing one.
	ReturnHost                    string
	WebServicesPassword, Remember bool
}

// redirectTarget is a checked redirectUrl.
type redirectTarget struct {
	url *url.URL
	// sameHost: the API's own host (the "app" flow, tokens through a
	// cookie); otherwise an allowed other host (the "blog" flow, a
	// one-time token in the fragment).
	sameHost bool
}

func (t redirectTarget) flow() string {
	if t.sameHost {
		return "app"
	}
	return "blog"
}

// with returns the target URL with fragment set.
func (t redirectTarget) with(fragment string) string {
	u := *t.url
	u.Fragment = fragment
	return u.String()
}

// checkRedirect accepts an absolute http(s) URL whose host is exactly the
// API's own host or one the operator allows, and refuses everything else:
// scheme-relative and relative URLs, other schemes (javascript:, data:),
// user info (https://app.example.com@evil.example/), look-alike hosts,
// backslashes and control characters, which browsers and parsers read
// differently, and non-ASCII hosts.
func checkRedirect(raw, apiHost string, allowed []string) (redirectTarget, bool) {
	if raw == "" || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '\\' }) {
		return redirectTarget{}, false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil || u.Host == "" {
		return redirectTarget{}, false
	}
	// Hosts are compared case-insensitively in ASCII only: Unicode case
	// folding would take "kioſks" (long s) for "kiosks". International
	// names arrive in their ASCII (punycode) form.
	if strings.ContainsFunc(u.Host, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return redirectTarget{}, false
	}
	if strings.EqualFold(u.Host, apiHost) {
		return redirectTarget{url: u, sameHost: true}, true
	}
	for _, host := range allowed {
		if strings.EqualFold(host, u.Host) || strings.EqualFold(host, u.Hostname()) {
			return redirectTarget{url: u}, true
		}
	}
	return redirectTarget{}, false
}

// redirectFor checks the request's redirectUrl. Over HTTPS it must be
// https too: a one-time token is worth a session, and a plain-HTTP page
// is one anyone on the network path can read or rewrite.
func redirectFor(r *http.Request, req *request, allowedHosts []string) (redirectTarget, bool) {
	target, ok := checkRedirect(req.params.Get("redirectUrl"), r.Host, allowedHosts)
	if ok && overHTTPS(r) && target.url.Scheme != "https" {
		return redirectTarget{}, false
	}
	return target, ok
}

// authorize serves GET /v{N}/authorization: the sign-in screen, or an
// "Invalid parameter." page (400; Movable Type says 200) for a missing or
// refused clientId or redirectUrl, never a form or a redirect then. An
// address locked out for failed sign-ins gets "Invalid request." instead
// of the form, as in Movable Type.
func (a *API) authorize(ctx context.Context, w http.ResponseWriter, r *http.Request, req *request, rt route) {
	switch locked, err := a.svc.IPLockedOut(ctx, clientIP(r)); {
	case err != nil:
		a.respond(ctx, w, req, err, nil)
		return
	case locked:
		writeMessagePage(w, http.StatusForbidden, "Invalid request.")
		return
	}
	id, idOK := clientID(req.params)
	target, redirectOK := redirectFor(r, req, a.opts.RedirectHosts)
	if !idOK || !redirectOK {
		writeMessagePage(w, http.StatusBadRequest, "Invalid parameter.")
		return
	}
	magic := secret.New()
	http.SetCookie(w, &http.Cookie{Name: magicTokenCookie, Value: magic, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: overHTTPS(r)})
	writeSignInPage(w, http.StatusOK, target, signInPage{ClientID: id, MagicToken: magic, WebServicesPassword: rt.version >= 3})
}

// writeSignInPage renders the sign-in screen under a strict Content
// Security Policy: nothing loads from anywhere, only this response's own
// inline style and script run, and forms may go only to this API and the
// redirect's origin (a browser checks form-action on the 303 as well).
func writeSignInPage(w http.ResponseWriter, status int, target redirectTarget, page signInPage) {
	page.Nonce = secret.New()
	page.RedirectURL = target.with("")
	page.Flow = target.flow()
	page.ReturnHost = target.url.Host
	origin := target.url.Scheme + "://" + target.url.Host
	writeHTML(w, status, "signin.html", page, page.Nonce,
		"form-action 'self' "+origin+"; connect-src 'self'")
}

// writeMessagePage answers with a page that only says message.
func writeMessagePage(w http.ResponseWriter, status int, message string) {
	nonce := secret.New()
	writeHTML(w, status, "message.html", struct{ Nonce, Message string }{nonce, message}, nonce, "form-action 'none'")
}

func writeHTML(w http.ResponseWriter, status int, name string, data any, nonce, extraCSP string) {
	var body bytes.Buffer
	if err := pages.ExecuteTemplate(&body, name, data); err != nil {
		// The templates are ours and their data is plain strings.
		panic(err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; script-src 'nonce-"+nonce+
		"'; base-uri 'none'; frame-ancestors 'none'; "+extraCSP)
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	// Pages echo what a client sent (the username); invalid UTF-8 there
	// would make the page binary, and API Gateway would pass it on base64.
	_, _ = w.Write(bytes.ToValidUTF8(body.Bytes(), []byte("\uFFFD")))
}

// browserSignIn is what a sign-in post says about the browser flow.
type browserSignIn struct {
	// magicOK: the posted magic token equals the page's cookie, so the
	// post came from our sign-in screen in this browser (a cross-site
	// post carries no SameSite=Lax cookie).
	magicOK bool
	// formPost: a plain HTML form post (no script), which wants a page or
	// a redirect back rather than JSON.
	formPost bool
	target   redirectTarget
	targetOK bool
	// magicToken is the posted token, kept on the screen shown again.
	magicToken string
}

func readBrowserSignIn(r *http.Request, req *request, allowedHosts []string) browserSignIn {
	var b browserSignIn
	posted := req.params.Get("mtDataApiLoginMagicToken")
	b.magicToken = posted
	if c, err := r.Cookie(magicTokenCookie); err == nil && posted != "" {
		b.magicOK = subtle.ConstantTimeCompare([]byte(c.Value), []byte(posted)) == 1
	}
	b.formPost = b.magicOK && r.Header.Get("X-Requested-With") != "XMLHttpRequest" && prefersHTML(r.Header.Get("Accept"))
	b.target, b.targetOK = redirectFor(r, req, allowedHosts)
	return b
}

// answered finishes a sign-in from the sign-in screen, reporting false
// when the caller should answer with JSON instead. A success spends the
// magic token; from a plain form post it redirects to the target with the
// fragment (the app flow only to the API's own host), and a refusal shows
// the screen again with the message.
func (b browserSignIn) answered(w http.ResponseWriter, r *http.Request, err error, signIn auth.SignInRequest, fragment string) bool {
	if err == nil && b.magicOK {
		http.SetCookie(w, expiredCookie(r, magicTokenCookie, true))
	}
	if !b.formPost || !b.targetOK {
		return false
	}
	switch {
	case err == nil && (b.target.sameHost || fragment != "_login"):
		http.Redirect(w, r, b.target.with(fragment), http.StatusSeeOther)
		return true
	case errors.Is(err, auth.ErrInvalidLogin):
		writeSignInPage(w, http.StatusUnauthorized, b.target, signInPage{
			ClientID: signIn.ClientID, MagicToken: b.magicToken, Username: signIn.Username,
			Remember: signIn.Remember, WebServicesPassword: signIn.Check == auth.WebServicesPassword, Error: "Invalid login.",
		})
		return true
	}
	return false
}

// prefersHTML reports whether an Accept header ranks text/html above
// application/json, as a browser's navigation does and fetch's */* does not.
func prefersHTML(accept string) bool {
	quality := func(want string) float64 {
		best := 0.0
		for _, part := range strings.Split(accept, ",") {
			mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			wantType, _, _ := strings.Cut(want, "/")
			if mediaType != want && mediaType != wantType+"/*" && mediaType != "*/*" {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if parsed, err := strconv.ParseFloat(v, 64); err == nil {
					q = parsed
				}
			}
			if q <= 0 {
				continue // q=0 means "not acceptable"
			}
			// An exact match outranks a wildcard with the same q.
			if mediaType == want {
				q += 0.0001
			}
			best = max(best, q)
		}
		return best
	}
	return quality("text/html") > quality("application/json")
}

// userCookie is the browser's record of its session for one client:
// mt_data_api_user_<clientId> = <username>::<sessionId>::<remember>. The
// username is percent-encoded, since cookie values cannot hold every
// character a username can; only mtauth reads it (it is HttpOnly).
func userCookie(r *http.Request, clientID, username, sessionID string, remember bool) *http.Cookie {
	c := &http.Cookie{
		Name:     userCookiePrefix + clientID,
		Value:    url.QueryEscape(username) + "::" + sessionID + "::" + boolDigit(remember),
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   overHTTPS(r),
	}
	if remember {
		c.MaxAge = int(rememberedCookieAge.Seconds())
	}
	return c
}

// sessionFromCookie reads the user cookie of clientID.
func sessionFromCookie(r *http.Request, clientID string) (username, sessionID string, ok bool) {
	c, err := r.Cookie(userCookiePrefix + clientID)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(c.Value, "::")
	if len(parts) != 3 || parts[1] == "" {
		return "", "", false
	}
	username, err = url.QueryUnescape(parts[0])
	return username, parts[1], err == nil
}

// accessTokenJSONCookie is what the sign-in screen's script stores for
// the app (mt_data_api_access_token, readable by script, path /), set by
// the server itself when the post came without script.
func accessTokenJSONCookie(r *http.Request, answer signInResponse) *http.Cookie {
	body, _ := json.Marshal(answer)
	return &http.Cookie{Name: accessTokenCookie, Value: url.QueryEscape(string(body)), Path: "/", SameSite: http.SameSiteLaxMode, Secure: overHTTPS(r)}
}

// expiredCookie tells the browser to drop a cookie.
func expiredCookie(r *http.Request, name string, httpOnly bool) *http.Cookie {
	return &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: httpOnly, SameSite: http.SameSiteLaxMode, Secure: overHTTPS(r)}
}

// overHTTPS reports whether the client reached API Gateway over HTTPS
// (API Gateway says so in X-Forwarded-Proto), so cookies get Secure.
func overHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
