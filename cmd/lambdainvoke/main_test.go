package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/motoserver"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

func TestRefusesAnythingButALocalDynamoDB(t *testing.T) {
	t.Setenv(dynamo.LocalEndpointVariable, "")
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"-function", "CatchAllFunction", "-bootstrap", "x", "-event", "x"}, &bytes.Buffer{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), dynamo.LocalEndpointVariable) {
		t.Errorf("ran without %s: %v", dynamo.LocalEndpointVariable, err)
	}
}

// The `make invoke` path: a fixture with placeholders, filled, run once
// under the emulator against moto_server, the response on stdout.
func TestInvokesAFixtureOnce(t *testing.T) {
	moto := motoserver.Start(t)
	t.Setenv(dynamo.LocalEndpointVariable, moto)
	t.Setenv("TABLE_NAME", "lambdainvoke-test")
	t.Setenv("AWS_REGION", "us-east-1")
	dir := t.TempDir()
	build := exec.Command("make", "-s", "--no-print-directory", "-C", "../..", "build-CatchAllFunction",
		"ARTIFACTS_DIR="+dir, "LAMBDA_GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build-CatchAllFunction: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{
		"-function", "CatchAllFunction", "-bootstrap", filepath.Join(dir, "bootstrap"),
		"-event", "../../events/get_token-success.json",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("stdout is not the proxy response: %v\n%s", err, stdout.String())
	}
	if resp.StatusCode != 200 || !regexp.MustCompile(`^\{"accessToken":"[0-9a-f]{40}","expiresIn":3600\}$`).MatchString(resp.Body) {
		t.Errorf("response %+v", resp)
	}
	// The event is GetTokenFunction's; running it in the catch-all works,
	// but is worth a word.
	for _, want := range []string{"would route POST /v7/token to GetTokenFunction", "first response"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
