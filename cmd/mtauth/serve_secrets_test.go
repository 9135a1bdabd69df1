package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/testkit"
)

// TestServeLogHasNoSecrets: `mtauth serve` at debug level logs each
// request (its access log) and the audit events, and neither holds a
// password, session id or token, wherever the client put them.
func TestServeLogHasNoSecrets(t *testing.T) {
	t.Setenv("MTAUTH_LOG_LEVEL", "debug")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	const signInPW, wsPW = "Serve-Sign-In-Pa55word", "Serve-Web-Services-Pa55word"
	var logs testkit.Buffer
	api := startServeLogging(t, &logs, "--user", "melody:"+signInPW+":"+wsPW)

	secrets := []string{signInPW, wsPW}
	send := func(method, path string, query, form url.Values, authorization string) map[string]string {
		t.Helper()
		u := api + path
		if query != nil {
			u += "?" + query.Encode()
		}
		req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if authorization != "" {
			req.Header.Set("X-MT-Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		strs := map[string]string{}
		for k, v := range body {
			if s, ok := v.(string); ok && len(s) == 40 {
				strs[k] = s
				secrets = append(secrets, s)
			}
		}
		return strs
	}
	signIn := url.Values{"clientId": {"serve"}, "username": {"melody"}, "password": {wsPW}}
	s := send(http.MethodPost, "/v4/authentication", nil, signIn, "")
	// Secrets in the query string, where an access log would see them.
	s2 := send(http.MethodPost, "/v1/authentication", url.Values{"password": {signInPW}}, url.Values{"clientId": {"serve"}, "username": {"melody"}}, "")
	tok := send(http.MethodPost, "/v4/token", url.Values{"X-MT-Authorization": {"MTAuth sessionId=" + s["sessionId"]}}, url.Values{}, "")
	send(http.MethodDelete, "/v4/token", nil, nil, "MTAuth accessToken="+tok["accessToken"])
	send(http.MethodPost, "/v4/authentication", nil, url.Values{"clientId": {"serve"}, "username": {"melody"}, "password": {"Wr0ng-" + wsPW}}, "")
	secrets = append(secrets, "Wr0ng-"+wsPW)
	send(http.MethodDelete, "/v4/authentication", url.Values{"suppressResponseCodes": {"1"}}, nil, "MTAuth sessionId="+s2["sessionId"])
	send(http.MethodGet, "/v4/authorization", url.Values{"clientId": {"serve"}, "redirectUrl": {api + "/app/?token=" + s["accessToken"]}}, nil, "")

	if len(secrets) < 6 {
		t.Fatalf("only %d secrets handed out", len(secrets))
	}
	log := logs.String()
	if !strings.Contains(log, "signed_in") || !strings.Contains(log, "path=") {
		t.Fatalf("the log has no audit events or no access log lines:\n%s", log)
	}
	for _, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("a secret appears in serve's log: %s", secret[:6])
		}
	}
}
