// Command revoke_token is the Lambda function for the Data API's revoke_token
// endpoint: DELETE /v{N}/token (revoke one access token).
package main

import (
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/dataapi"
)

func main() { app.RunLambda(dataapi.RevokeToken) }
