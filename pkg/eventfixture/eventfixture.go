// Package eventfixture readies the API Gateway events in events/ for a
// run. A fixture cannot hold a working session id or token, because those
// exist only after someone signs in, and only as hashes in the table; so
// fixtures hold placeholders ({{sessionId}}, {{accessToken}},
// {{oneTimeToken}}), and before each run Prepare signs the fixture user in
// and Fill puts the fresh secrets in their place. The fixture test and
// `make invoke` (cmd/lambdainvoke) both do exactly this.
package eventfixture

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mtauth/mtauth/pkg/auth"
)

// The account and client every fixture uses. events/README.md documents
// them; the passwords are fixtures' own, never real ones.
const (
	Username            = "melody"
	SignInPassword      = "Nelson-1"         // v1, v2
	WebServicesPassword = "melody-ws-secret" // v3..v7
	ClientID            = "app"
)

// The placeholders a fixture may hold, each filled with a fresh secret of
// the fixture user, signed in with ClientID.
const (
	SessionID    = "sessionId"    // a session
	AccessToken  = "accessToken"  // a token of that session
	OneTimeToken = "oneTimeToken" // a one-time token (redirect_type=blog)
)

var placeholder = regexp.MustCompile(`\{\{([A-Za-z]+)\}\}`)

// Service is what preparing a fixture needs; *auth.Service has it.
type Service interface {
	EnsureSignInUser(ctx context.Context, username, signInPassword, webServicesPassword string) error
	UnlockUser(ctx context.Context, username string) error
	UnlockIP(ctx context.Context, ip string) error
	SignIn(ctx context.Context, req auth.SignInRequest) (auth.Grant, error)
	SignInForOneTimeToken(ctx context.Context, req auth.SignInRequest) (string, error)
}

var _ Service = (*auth.Service)(nil)

// Placeholders returns the names of the placeholders in event, sorted,
// each once.
func Placeholders(event []byte) []string {
	var names []string
	for _, m := range placeholder.FindAllSubmatch(event, -1) {
		if name := string(m[1]); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Prepare readies the store for one run of event: the fixture user exists,
// is active and has the documented passwords; neither the user nor the
// event's source IP is locked out (fixtures of failed sign-ins count
// toward a lockout, and runs repeat); and each placeholder the event
// holds gets a fresh value. It returns the values by placeholder name.
func Prepare(ctx context.Context, svc Service, event []byte) (map[string]string, error) {
	if err := svc.EnsureSignInUser(ctx, Username, SignInPassword, WebServicesPassword); err != nil {
		return nil, fmt.Errorf("eventfixture: user %s: %w", Username, err)
	}
	if err := svc.UnlockUser(ctx, Username); err != nil {
		return nil, fmt.Errorf("eventfixture: unlock %s: %w", Username, err)
	}
	var shape struct {
		RequestContext struct {
			Identity struct {
				SourceIP string `json:"sourceIp"`
			} `json:"identity"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(event, &shape); err != nil {
		return nil, fmt.Errorf("eventfixture: not an event: %w", err)
	}
	if ip := shape.RequestContext.Identity.SourceIP; ip != "" {
		if err := svc.UnlockIP(ctx, ip); err != nil {
			return nil, fmt.Errorf("eventfixture: unlock %s: %w", ip, err)
		}
	}

	signIn := auth.SignInRequest{
		Username: Username, Password: WebServicesPassword, Check: auth.WebServicesPassword,
		ClientID: ClientID, ClientIP: shape.RequestContext.Identity.SourceIP,
	}
	values := map[string]string{}
	for _, name := range Placeholders(event) {
		switch name {
		case SessionID, AccessToken:
			if values[SessionID] != "" {
				continue
			}
			grant, err := svc.SignIn(ctx, signIn)
			if err != nil {
				return nil, fmt.Errorf("eventfixture: sign in %s: %w", Username, err)
			}
			values[SessionID], values[AccessToken] = grant.SessionID, grant.AccessToken
		case OneTimeToken:
			token, err := svc.SignInForOneTimeToken(ctx, signIn)
			if err != nil {
				return nil, fmt.Errorf("eventfixture: one-time token for %s: %w", Username, err)
			}
			values[OneTimeToken] = token
		default:
			return nil, fmt.Errorf("eventfixture: unknown placeholder {{%s}}", name)
		}
	}
	return values, nil
}

// Fill puts values in place of the placeholders. A placeholder without a
// value is an error, so no half-filled event reaches a function.
func Fill(event []byte, values map[string]string) ([]byte, error) {
	var missing []string
	out := placeholder.ReplaceAllFunc(event, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return []byte(v)
	})
	if missing != nil {
		return nil, fmt.Errorf("eventfixture: no value for {{%s}}", strings.Join(missing, "}}, {{"))
	}
	return out, nil
}
