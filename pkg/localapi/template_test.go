package localapi

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mtauth/mtauth/pkg/samtemplate"
)

const twoFunctions = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      GatewayResponses:
        DEFAULT_4XX:
          StatusCode: 400
          ResponseTemplates:
            application/json: '{"error":{"code":400,"message":"Bad Request"}}'
  One:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Post:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /{version}/token
            Method: post
  Two:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Any:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /{version}/token
            Method: any
`

func handlerNamed(name string) lambda.Handler {
	return lambda.NewHandler(func(context.Context) (string, error) { return name, nil })
}

func TestFromTemplate(t *testing.T) {
	tpl, err := samtemplate.Parse([]byte(twoFunctions))
	if err != nil {
		t.Fatal(err)
	}
	g, err := FromTemplate(tpl, func(f samtemplate.Function) (func() lambda.Handler, error) {
		return func() lambda.Handler { return handlerNamed(f.LogicalID) }, nil
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if g.Stage != "Prod" || g.Responses["DEFAULT_4XX"].StatusCode != 400 {
		t.Errorf("stage %q, responses %v", g.Stage, g.Responses)
	}
	for method, want := range map[string]string{"POST": "One", "GET": "Two"} {
		route, _, ok := g.Match(method, "/v7/token")
		if !ok || route.Function != want {
			t.Fatalf("%s /v7/token: %v %s, want %s", method, ok, route.Function, want)
		}
		out, err := route.Instance().Invoke(context.Background(), []byte("{}"))
		if err != nil || string(out) != `"`+want+`"` {
			t.Errorf("%s's handler answered %s %v", want, out, err)
		}
	}
}

func TestFromTemplateRefusesAVerbRoutedTwice(t *testing.T) {
	twice := strings.Replace(twoFunctions, "Method: any", "Method: post", 1)
	tpl, err := samtemplate.Parse([]byte(twice))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromTemplate(tpl, nil, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("POST routed to two functions: %v", err)
	}
}
