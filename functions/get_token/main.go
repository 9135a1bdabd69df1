// Command get_token is the Lambda function for the Data API's get_token
// endpoint: POST /v{N}/token (new access token).
package main

import (
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/dataapi"
)

func main() { app.RunLambda(dataapi.GetToken) }
