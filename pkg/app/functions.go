package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mtauth/mtauth/pkg/dataapi"
)

// Functions maps each Lambda function's code package, the directory
// under functions/, to the Data API endpoints it serves. template.yaml
// names each function's package (Metadata.GoPackage) and routes; the
// deployed functions and `mtauth serve` both look the package up here,
// so they cannot disagree on who serves what.
var Functions = map[string][]dataapi.Endpoint{
	"authorize":             {dataapi.Authorize},
	"authenticate":          {dataapi.Authenticate},
	"revoke_authentication": {dataapi.RevokeAuthentication},
	"get_token":             {dataapi.GetToken},
	"revoke_token":          {dataapi.RevokeToken},
	// Whatever no endpoint's route takes: the Data API's own 404 and 400
	// answers, OPTIONS, and /v{N}/token.json and the like.
	"catch_all": dataapi.Endpoints,
}

// RunFunction is the whole of functions/<name>/main.go: it builds, once
// at cold start, the handler of the endpoints Functions lists for the
// package name, then serves invocations with it. An unknown name or a bad
// setting stops the function with the reason in its log.
func RunFunction(name string) {
	serves, ok := Functions[name]
	if !ok {
		slog.Error("cannot start", "error", "pkg/app.Functions has no function "+name)
		os.Exit(1)
	}
	handler, err := lambdaFromEnv(context.Background(), serves...)
	if err != nil {
		slog.Error("cannot start", "function", name, "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}

// Serves returns the endpoints of the function whose code is goPackage,
// as template.yaml writes it ("./functions/get_token").
func Serves(goPackage string) ([]dataapi.Endpoint, error) {
	serves, ok := Functions[path.Base(goPackage)]
	if !ok || path.Clean(goPackage) != path.Join("functions", path.Base(goPackage)) {
		return nil, fmt.Errorf("%q is not a function package pkg/app knows (./functions/<name>, name in app.Functions)", goPackage)
	}
	return serves, nil
}
