package eventfixture

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/auth"
)

// fakeService records what Prepare asks of it.
type fakeService struct {
	calls []string
}

func (f *fakeService) EnsureSignInUser(_ context.Context, username, signIn, webServices string) error {
	f.calls = append(f.calls, "ensure "+username+" "+signIn+" "+webServices)
	return nil
}

func (f *fakeService) UnlockUser(_ context.Context, username string) error {
	f.calls = append(f.calls, "unlock user "+username)
	return nil
}

func (f *fakeService) UnlockIP(_ context.Context, ip string) error {
	f.calls = append(f.calls, "unlock ip "+ip)
	return nil
}

func (f *fakeService) SignIn(_ context.Context, req auth.SignInRequest) (auth.Grant, error) {
	f.calls = append(f.calls, "sign in "+req.Username+" "+req.ClientID)
	return auth.Grant{SessionID: "s1", AccessToken: "t1"}, nil
}

func (f *fakeService) SignInForOneTimeToken(_ context.Context, req auth.SignInRequest) (string, error) {
	f.calls = append(f.calls, "one-time "+req.Username)
	return "o1", nil
}

const event = `{"headers":{"X-MT-Authorization":"MTAuth sessionId={{sessionId}}"},
"body":"{{accessToken}} {{oneTimeToken}} {{sessionId}}","requestContext":{"identity":{"sourceIp":"203.0.113.10"}}}`

func TestPrepareSignsInOnceAndUnlocks(t *testing.T) {
	svc := &fakeService{}
	values, err := Prepare(context.Background(), svc, []byte(event))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ensure melody Nelson-1 melody-ws-secret",
		"unlock user melody",
		"unlock ip 203.0.113.10",
		"sign in melody app",
		"one-time melody",
	}
	if !slices.Equal(svc.calls, want) {
		t.Errorf("calls %q, want %q", svc.calls, want)
	}
	filled, err := Fill([]byte(event), values)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(filled), `sessionId=s1"`) || !strings.Contains(string(filled), `"t1 o1 s1"`) {
		t.Errorf("filled %s", filled)
	}
}

func TestPrepareWithoutPlaceholdersOnlyReadiesTheUser(t *testing.T) {
	svc := &fakeService{}
	values, err := Prepare(context.Background(), svc, []byte(`{"requestContext":{"identity":{"sourceIp":"127.0.0.1"}}}`))
	if err != nil || len(values) != 0 || len(svc.calls) != 3 {
		t.Errorf("values %v, calls %q, err %v", values, svc.calls, err)
	}
}

func TestUnknownOrMissingPlaceholdersFail(t *testing.T) {
	if _, err := Prepare(context.Background(), &fakeService{}, []byte(`{"body":"{{password}}"}`)); err == nil {
		t.Error("Prepare accepted {{password}}")
	}
	if _, err := Fill([]byte(`{"body":"{{sessionId}} {{accessToken}}"}`), map[string]string{"sessionId": "s"}); err == nil ||
		!strings.Contains(err.Error(), "{{accessToken}}") {
		t.Errorf("Fill with a value missing: %v", err)
	}
	if got := Placeholders([]byte(event)); !slices.Equal(got, []string{"accessToken", "oneTimeToken", "sessionId"}) {
		t.Errorf("Placeholders = %q", got)
	}
}
