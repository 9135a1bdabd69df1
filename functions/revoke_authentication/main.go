// Command revoke_authentication is the Lambda function for the Data API's revoke_authentication
// endpoint: DELETE /v{N}/authentication (sign out).
//
// What it serves is pkg/app.Functions["revoke_authentication"]; template.yaml routes to it.
package main

import "github.com/mtauth/mtauth/pkg/app"

func main() { app.RunFunction("revoke_authentication") }
