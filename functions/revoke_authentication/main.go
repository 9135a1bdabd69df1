// Command revoke_authentication is the Lambda function for the Data API's revoke_authentication
// endpoint: DELETE /v{N}/authentication (sign out).
package main

import (
	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/dataapi"
)

func main() { app.RunLambda(dataapi.RevokeAuthentication) }
