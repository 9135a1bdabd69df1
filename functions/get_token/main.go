// Command get_token is the Lambda function for the Data API's get_token
// endpoint: POST /v{N}/token (new access token).
//
// What it serves is pkg/app.Functions["get_token"]; template.yaml routes to it.
package main

import "github.com/mtauth/mtauth/pkg/app"

func main() { app.RunFunction("get_token") }
