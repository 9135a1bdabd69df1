// Command revoke_token is the Lambda function for the Data API's revoke_token
// endpoint: DELETE /v{N}/token (revoke one access token).
//
// What it serves is pkg/app.Functions["revoke_token"]; template.yaml routes to it.
package main

import "github.com/mtauth/mtauth/pkg/app"

func main() { app.RunFunction("revoke_token") }
