// Command authenticate is the Lambda function for the Data API's authenticate
// endpoint: POST /v{N}/authentication (sign in).
//
// What it serves is pkg/app.Functions["authenticate"]; template.yaml routes to it.
package main

import "github.com/mtauth/mtauth/pkg/app"

func main() { app.RunFunction("authenticate") }
