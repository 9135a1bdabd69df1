// Command authorize is the Lambda function for the Data API's authorize
// endpoint: GET /v{N}/authorization (the browser sign-in screen).
//
// What it serves is pkg/app.Functions["authorize"]; template.yaml routes to it.
package main

import "github.com/mtauth/mtauth/pkg/app"

func main() { app.RunFunction("authorize") }
