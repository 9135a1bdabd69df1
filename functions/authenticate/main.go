// Command authenticate is the Lambda function for the Data API's authenticate
// endpoint: POST /v{N}/authentication (sign in).
package main

import (
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/dataapi"
)

func main() { app.RunLambda(dataapi.Authenticate) }
