package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// mtauth runs one command line in process and returns what it printed.
func mtauth(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr); err != nil {
		t.Fatalf("mtauth %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestOperatorCommandsAgainstMoto administers users in DynamoDB over HTTP
// (moto_server), then signs in through `mtauth serve` on the same table.
func TestOperatorCommandsAgainstMoto(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", motoserver.Start(t))
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("TABLE_NAME", "operator-test")

	mtauth(t, "", "table", "create")
	mtauth(t, "", "table", "create") // an existing table is fine
	out := mtauth(t, "Nelson-1\n", "user", "add", "melody", "--password", "-", "--email", "melody@example.com")
	generated := regexp.MustCompile(`shown once\): ([0-9a-f]{32})`).FindStringSubmatch(out)
	if generated == nil {
		t.Fatalf("user add did not print a generated web services password:\n%s", out)
	}
	mtauth(t, "", "user", "add", "ellen", "--no-data-api", "--web-services-password", "ellen-ws")
	list := mtauth(t, "", "user", "list")
	if !regexp.MustCompile(`(?m)^ellen\s+active\s+false\s+\S*\s*ellen`).MatchString(list) ||
		!regexp.MustCompile(`(?m)^melody\s+active\s+false\s+sign_in_data_api\s+melody\s+melody@example.com`).MatchString(list) {
		t.Fatalf("user list:\n%s", list)
	}

	api := startServe(t)
	signIn := func(version, user, password string) int {
		t.Helper()
		resp, err := http.PostForm(api+"/"+version+"/authentication", url.Values{"clientId": {"test"}, "username": {user}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := signIn("v2", "melody", "Nelson-1"); got != 200 {
		t.Errorf("v2 sign-in with the sign-in password: %d", got)
	}
	if got := signIn("v7", "melody", generated[1]); got != 200 {
		t.Errorf("v7 sign-in with the generated web services password: %d", got)
	}
	if got := signIn("v7", "ellen", "ellen-ws"); got != 401 {
		t.Errorf("sign-in without the sign_in_data_api permission: %d, want 401", got)
	}

	mtauth(t, "", "user", "disable", "melody")
	if got := signIn("v2", "melody", "Nelson-1"); got != 401 {
		t.Errorf("sign-in of a disabled user: %d, want 401", got)
	}
	mtauth(t, "", "user", "enable", "melody")
	mtauth(t, "", "user", "set-password", "melody", "--password", "Nelson-2")
	if got := signIn("v2", "melody", "Nelson-2"); got != 200 {
		t.Errorf("sign-in with the new password: %d", got)
	}
	out = mtauth(t, "", "user", "set-web-services-password", "melody")
	if again := regexp.MustCompile(`shown once\): ([0-9a-f]{32})`).FindStringSubmatch(out); again == nil || signIn("v7", "melody", again[1]) != 200 {
		t.Errorf("set-web-services-password did not give a working password:\n%s", out)
	}
}

// TestUnlockCommandsAgainstMoto locks a user and then the client's IP out
// through mtauth serve, and ends each lockout with the operator commands.
func TestUnlockCommandsAgainstMoto(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", motoserver.Start(t))
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("TABLE_NAME", "unlock-test")
	t.Setenv("MTAUTH_USER_LOCKOUT_LIMIT", "2")
	t.Setenv("MTAUTH_IP_LOCKOUT_LIMIT", "4")
	api := startServe(t, "--user", "melody:Nelson-1:melody-ws", "--user", "ellen:Ellen-1:ellen-ws")
	signIn := func(user, password string) int {
		t.Helper()
		resp, err := http.PostForm(api+"/v7/authentication", url.Values{"clientId": {"test"}, "username": {user}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	signIn("melody", "wrong")
	signIn("melody", "wrong")
	if got := signIn("melody", "melody-ws"); got != 401 {
		t.Fatalf("right password after 2 failures with a limit of 2: %d, want 401 (locked)", got)
	}
	out := mtauth(t, "", "user", "unlock", "melody")
	if !strings.Contains(out, "melody may sign in again") {
		t.Errorf("user unlock printed %q", out)
	}
	if got := signIn("melody", "melody-ws"); got != 200 {
		t.Fatalf("sign-in after user unlock: %d", got)
	}

	// Two failures so far from 127.0.0.1; two more lock the address for
	// every user.
	signIn("ellen", "wrong")
	signIn("ellen", "wrong")
	if got := signIn("melody", "melody-ws"); got != 401 {
		t.Fatalf("sign-in from a locked IP: %d, want 401", got)
	}
	mtauth(t, "", "ip", "unlock", "127.0.0.1")
	mtauth(t, "", "user", "unlock", "ellen")
	if got := signIn("ellen", "ellen-ws"); got != 200 {
		t.Fatalf("sign-in after ip unlock: %d", got)
	}
	var stderr strings.Builder
	if err := run(t.Context(), []string{"ip", "unlock", "not-an-ip"}, strings.NewReader(""), io.Discard, &stderr); err == nil {
		t.Error("ip unlock accepted a non-address")
	}
}

// TestOverlongNamesAgainstMoto: DynamoDB refuses keys over 2 KiB, so a
// username no user can have must fail as a wrong login (401), not as an
// outage (503), and an overlong clientId is a bad request.
func TestOverlongNamesAgainstMoto(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", motoserver.Start(t))
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("TABLE_NAME", "overlong-test")
	api := startServe(t, "--user", "melody:Nelson-1:melody-ws")
	for _, tt := range []struct {
		clientID, username string
		want               int
	}{
		{"test", strings.Repeat("m", 3000), http.StatusUnauthorized},
		{"test", strings.Repeat("m", 256), http.StatusUnauthorized},
		{strings.Repeat("c", 256), "melody", http.StatusBadRequest},
		{strings.Repeat("c", 255), "melody", http.StatusOK},
	} {
		resp, err := http.PostForm(api+"/v7/authentication", url.Values{"clientId": {tt.clientID}, "username": {tt.username}, "password": {"melody-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("clientId of %d bytes, username of %d bytes: %d, want %d", len(tt.clientID), len(tt.username), resp.StatusCode, tt.want)
		}
	}
}
