package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestServeConcurrentRequestsGetTheirOwnAnswers: `mtauth serve` answers
// many clients at once, and each gets its own answer, never another
// client's token. (Lambda invokes a function one request at a time; the
// local server must not rely on that.) Half the clients mint tokens, half
// present a bad token: a client that gets the other kind of answer got
// someone else's.
func TestServeConcurrentRequestsGetTheirOwnAnswers(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	api := startServe(t, "--user", "melody:Nelson-1:melody-ws-secret")
	form := url.Values{"clientId": {"serve"}, "username": {"melody"}, "password": {"melody-ws-secret"}}
	resp, err := http.Post(api+"/v7/authentication", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	var signIn struct{ SessionID string }
	err = json.NewDecoder(resp.Body).Decode(&signIn)
	resp.Body.Close()
	if err != nil || signIn.SessionID == "" {
		t.Fatalf("sign in: %v", err)
	}

	const clients, each = 16, 25
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			minter := c%2 == 0
			authz := "MTAuth accessToken=" + strings.Repeat("0", 40)
			if minter {
				authz = "MTAuth sessionId=" + signIn.SessionID
			}
			for range each {
				req, _ := http.NewRequest(http.MethodPost, api+"/v7/token", nil)
				req.Header.Set("X-MT-Authorization", authz)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var answer struct{ AccessToken string }
				_ = json.Unmarshal(body, &answer)
				switch {
				case minter && (resp.StatusCode != http.StatusOK || answer.AccessToken == ""):
					t.Errorf("client %d minting got %d %s", c, resp.StatusCode, body)
				case !minter && (resp.StatusCode != http.StatusUnauthorized || answer.AccessToken != ""):
					t.Errorf("client %d with a bad token got %d %s: another client's answer", c, resp.StatusCode, body)
				case minter:
					mu.Lock()
					if seen[answer.AccessToken] {
						t.Errorf("client %d got a token already handed out", c)
					}
					seen[answer.AccessToken] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if n := len(seen); n != clients/2*each {
		t.Errorf("%d distinct tokens minted, want %d", n, clients/2*each)
	}
}
