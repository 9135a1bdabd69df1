// Command lambdainvoke runs one Lambda function once, with one API Gateway
// event, under the AWS Lambda Runtime Interface Emulator: `sam local
// invoke` without Docker. `make invoke` builds the function for this
// machine and calls it:
//
//	lambdainvoke -function GetTokenFunction -bootstrap PATH -event events/get_token-success.json
//
// It works only against a local DynamoDB (AWS_ENDPOINT_URL_DYNAMODB must be
// set), because before invoking it readies that DynamoDB for the fixture:
// the table exists, the fixture user exists and is not locked out, and the
// event's placeholders ({{sessionId}}, ...) are replaced by fresh secrets
// of that user (pkg/eventfixture). The function's response is printed on
// stdout; its logs and the timings go to stderr. The exit status is 1 when
// the function failed (error, timeout or crash).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	project "github.com/mtauth/mtauth"
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/eventfixture"
	"github.com/mtauth/mtauth/pkg/localapi"
	"github.com/mtauth/mtauth/pkg/rie"
	"github.com/mtauth/mtauth/pkg/samtemplate"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lambdainvoke:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lambdainvoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	function := fs.String("function", "", "the function's logical id in template.yaml")
	bootstrap := fs.String("bootstrap", "", "the function's executable, built for this machine")
	eventFile := fs.String("event", "", "the API Gateway event (events/<function>-<case>.json)")
	emulator := fs.String("emulator", "", "aws-lambda-rie to use (default: the one go.mod pins)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *function == "" || *bootstrap == "" || *eventFile == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("-function, -bootstrap and -event are required")
	}
	if os.Getenv(dynamo.LocalEndpointVariable) == "" {
		return fmt.Errorf("%s is not set: this runs against a local DynamoDB (DynamoDB Local, moto_server) only, "+
			"because it writes the fixture user there", dynamo.LocalEndpointVariable)
	}

	tpl, err := samtemplate.Parse(project.Template)
	if err != nil {
		return err
	}
	fn, ok := tpl.Function(*function)
	if !ok {
		return fmt.Errorf("template.yaml has no function %q", *function)
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}
	warnIfRoutedElsewhere(tpl, fn.LogicalID, event, stderr)

	settings, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	event, err = prepare(ctx, settings, event)
	if err != nil {
		return err
	}

	if *emulator == "" {
		if *emulator, err = rie.Find(ctx); err != nil {
			return err
		}
	}
	cfg := rie.Config{
		Emulator: *emulator, Bootstrap: *bootstrap, FunctionName: fn.LogicalID,
		Env: functionEnv(settings), Output: stderr,
	}
	if p := fn.Properties; p.Timeout != nil {
		cfg.Timeout = time.Duration(*p.Timeout) * time.Second
	}
	if p := fn.Properties; p.MemorySize != nil {
		cfg.MemoryMB = *p.MemorySize
	}
	em, err := rie.Start(ctx, cfg)
	if err != nil {
		return err
	}
	resp, err := em.Invoke(ctx, event)
	coldStart := time.Since(em.Started())
	if closeErr := em.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "lambdainvoke: %s: emulator listening after %v; first response %v after the emulator started (the function's cold start included)\n",
		fn.LogicalID, em.Listening().Round(time.Millisecond), coldStart.Round(time.Millisecond))
	var pretty bytes.Buffer
	if json.Indent(&pretty, resp.Body, "", "  ") != nil {
		pretty.Write(resp.Body)
	}
	fmt.Fprintln(stdout, pretty.String())
	return resp.Err()
}

// prepare readies the local DynamoDB for the event and fills its
// placeholders.
func prepare(ctx context.Context, settings config.Settings, event []byte) ([]byte, error) {
	client, err := dynamo.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	if err := dynamo.CreateTable(ctx, client, settings.TableName); err != nil {
		return nil, err
	}
	a := app.New(settings, client, time.Now, slog.New(slog.DiscardHandler))
	values, err := eventfixture.Prepare(ctx, a.Service, event)
	if err != nil {
		return nil, err
	}
	return eventfixture.Fill(event, values)
}

// functionEnv is the function's environment: the settings and AWS
// configuration this process has, nothing else, as in Lambda. TABLE_NAME
// is always set, so the function uses the table prepare readied.
func functionEnv(settings config.Settings) []string {
	env := []string{"TABLE_NAME=" + settings.TableName}
	names := map[string]bool{}
	for _, v := range config.Variables {
		names[v.Name] = true
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "TABLE_NAME" && (names[name] || strings.HasPrefix(name, "AWS_")) {
			env = append(env, kv)
		}
	}
	return env
}

// warnIfRoutedElsewhere says so when API Gateway would send the event to
// another function than the one invoked: invoking it anyway is allowed
// (sam local invoke allows it too), but it is seldom what was meant.
func warnIfRoutedElsewhere(tpl *samtemplate.Template, function string, event []byte, stderr io.Writer) {
	var e struct {
		HTTPMethod string `json:"httpMethod"`
		Path       string `json:"path"`
	}
	if json.Unmarshal(event, &e) != nil {
		return
	}
	gw, err := localapi.FromTemplate(tpl, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return
	}
	if route, _, ok := gw.Match(e.HTTPMethod, e.Path); ok && route.Function != function {
		fmt.Fprintf(stderr, "lambdainvoke: note: API Gateway would route %s %s to %s, not %s\n", e.HTTPMethod, e.Path, route.Function, function)
	}
}
