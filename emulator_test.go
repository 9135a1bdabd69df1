package mtauth_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/eventfixture"
	"github.com/mtauth/mtauth/pkg/motoserver"
	"github.com/mtauth/mtauth/pkg/rie"
	"github.com/mtauth/mtauth/pkg/samtemplate"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
	"github.com/mtauth/mtauth/pkg/testkit"
)

// TestFixturesUnderTheEmulator runs every fixture in events/ through its
// function, built by the Makefile's build target for this machine and run
// by the Lambda Runtime Interface Emulator (what `sam local invoke` runs),
// against moto_server, one invocation at a time. It checks each answer
// against fixtureExpectations, and each function's IAM policy against the
// DynamoDB actions the function called: all of them granted (or it would
// fail deployed), none granted that no fixture needed (least privilege).
func TestFixturesUnderTheEmulator(t *testing.T) {
	moto := motoserver.Start(t)
	ctx := t.Context()
	emulator, err := rie.Find(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tpl := parseTemplate(t)
	fixtures := loadFixtures(t, tpl)
	svc, table := fixtureService(t, moto)
	bin := t.TempDir()

	for _, f := range tpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			bootstrap := buildForThisMachine(t, f.LogicalID, filepath.Join(bin, f.LogicalID))
			recorder := newActionRecorder(t, moto)
			var logs testkit.Buffer
			em, err := rie.Start(ctx, rie.Config{
				Emulator: emulator, Bootstrap: bootstrap, FunctionName: f.LogicalID,
				Timeout: time.Duration(*f.Properties.Timeout) * time.Second, MemoryMB: *f.Properties.MemorySize,
				Env: deployedEnv(f, table, recorder.URL), Output: &logs,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := em.Close(); err != nil {
					t.Errorf("stopping the emulator: %v", err)
				}
				if t.Failed() {
					t.Logf("emulator and function output:\n%s", logs.String())
				}
			})
			first := true
			for _, fx := range fixtures {
				if fx.function != f.LogicalID {
					continue
				}
				t.Run(fx.name, func(t *testing.T) {
					values, err := eventfixture.Prepare(ctx, svc, fx.raw)
					if err != nil {
						t.Fatal(err)
					}
					event, err := eventfixture.Fill(fx.raw, values)
					if err != nil {
						t.Fatal(err)
					}
					resp, err := em.Invoke(ctx, event)
					if err != nil {
						t.Fatal(err)
					}
					if first {
						first = false
						t.Logf("cold start: %v from starting the emulator to the first response (listening after %v, first invocation %v)",
							(em.Listening() + resp.Elapsed).Round(time.Millisecond), em.Listening().Round(time.Millisecond), resp.Elapsed.Round(time.Millisecond))
					}
					if err := resp.Err(); err != nil {
						t.Fatal(err)
					}
					checkProxyResponse(t, fixtureExpectations[fx.name], resp.Body)
				})
			}
			checkPolicy(t, f, recorder.Actions())
		})
	}
}

// fixtureService is the auth service over a fresh table in moto_server,
// which the fixtures are prepared with. The functions reach the same table
// through their own DynamoDB client.
func fixtureService(t *testing.T, moto string) (eventfixture.Service, string) {
	t.Helper()
	client := awsdynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(moto),
	})
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	table := "mtauth-fixtures-" + hex.EncodeToString(suffix)
	if err := dynamo.CreateTable(t.Context(), client, table); err != nil {
		t.Fatal(err)
	}
	settings, err := config.FromEnv(func(name string) string {
		if name == "TABLE_NAME" {
			return table
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return app.New(settings, client, time.Now, slog.New(slog.DiscardHandler)).Service, table
}

// buildForThisMachine runs the function's Makefile target, as `sam build`
// does, but for this machine's architecture so the emulator can run it.
func buildForThisMachine(t *testing.T, logicalID, dir string) string {
	t.Helper()
	cmd := exec.Command("make", "-s", "--no-print-directory", "build-"+logicalID,
		"ARTIFACTS_DIR="+dir, "LAMBDA_GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-%s: %v\n%s", logicalID, err, out)
	}
	return filepath.Join(dir, "bootstrap")
}

// deployedEnv is the environment Lambda gives the function with the
// template's defaults, pointed at the test's table and DynamoDB.
func deployedEnv(f samtemplate.Function, table, dynamoDB string) []string {
	env := []string{
		"TABLE_NAME=" + table,
		dynamo.LocalEndpointVariable + "=" + dynamoDB,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
	}
	for name, v := range f.Environment() {
		if name != "TABLE_NAME" {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// proxyResponseKeys are the keys API Gateway accepts in a REST proxy
// response; any other key makes it answer 502 (and sam local refuses it).
var proxyResponseKeys = []string{"body", "headers", "isBase64Encoded", "multiValueHeaders", "statusCode"}

// checkProxyResponse checks a function's answer against the expectation:
// status, body, Content-Type, the headers every Data API answer carries,
// further headers, and every cookie, which must travel in
// multiValueHeaders (headers keeps one value per name, so a second
// Set-Cookie there would be lost).
func checkProxyResponse(t *testing.T, want expectation, raw []byte) {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	for k := range keys {
		if !slices.Contains(proxyResponseKeys, k) {
			t.Errorf("key %q is not one API Gateway accepts (%v)", k, proxyResponseKeys)
		}
	}
	var resp struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	body := resp.Body
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			t.Fatalf("isBase64Encoded, but the body is not base64: %v", err)
		}
		body = string(b)
	}
	if resp.StatusCode != want.status {
		t.Errorf("status %d, want %d (body %s)", resp.StatusCode, want.status, body)
	}
	if !regexp.MustCompile(want.body).MatchString(body) {
		t.Errorf("body %q does not match %s", body, want.body)
	}

	if _, ok := resp.Headers["Set-Cookie"]; ok {
		t.Error("Set-Cookie in headers, where only one cookie survives; cookies go in multiValueHeaders")
	}
	header := func(name string) []string {
		values := resp.MultiValueHeaders[name]
		if v, ok := resp.Headers[name]; ok && !slices.Contains(values, v) {
			values = append(values, v)
		}
		return values
	}
	wantType := want.contentType
	switch wantType {
	case "":
		wantType = "application/json"
	case noContentType:
		wantType = ""
	}
	if got := header("Content-Type"); (wantType == "" && len(got) > 0) || (wantType != "" && !slices.Equal(got, []string{wantType})) {
		t.Errorf("Content-Type %q, want %q", got, wantType)
	}
	common, _ := commonResponse(t)
	for name := range common {
		if got := header(name); !slices.Equal(got, []string{common.Get(name)}) {
			t.Errorf("%s: %q, want %q as on every Data API answer", name, got, common.Get(name))
		}
	}
	for name, re := range want.headers {
		if got := header(name); len(got) != 1 || !regexp.MustCompile(re).MatchString(got[0]) {
			t.Errorf("%s: %q, want one value matching %s", name, got, re)
		}
	}
	cookies := resp.MultiValueHeaders["Set-Cookie"]
	if len(cookies) != len(want.cookies) {
		t.Errorf("cookies %q, want %d matching %q", cookies, len(want.cookies), want.cookies)
		return
	}
	for i, re := range want.cookies {
		if !regexp.MustCompile(re).MatchString(cookies[i]) {
			t.Errorf("cookie %d: %q does not match %s", i+1, cookies[i], re)
		}
	}
}

// checkPolicy holds the function's policy to the actions it called.
func checkPolicy(t *testing.T, f samtemplate.Function, called []string) {
	t.Helper()
	var granted []string
	for _, st := range f.Statements() {
		granted = append(granted, st.Actions...)
	}
	slices.Sort(granted)
	granted = slices.Compact(granted)
	for _, a := range called {
		if !slices.Contains(granted, a) {
			t.Errorf("%s calls %s, which its policy in template.yaml does not grant: deployed, that call would be denied", f.LogicalID, a)
		}
	}
	for _, a := range granted {
		if !slices.Contains(called, a) {
			t.Errorf("%s's policy grants %s, which no fixture of it made it call: remove the grant, or add the fixture that needs it", f.LogicalID, a)
		}
	}
}
