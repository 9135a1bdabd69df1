// Command catch_all is the Lambda function for every request no endpoint
// route matches: unknown paths and verbs get the Data API's own 404, a
// missing or bad version its 400, and /v{N}/token.json and the like are
// served by the same code as the endpoints.
package main

import (
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/dataapi"
)

func main() { app.RunLambda(dataapi.Endpoints...) }
