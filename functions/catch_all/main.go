// Command catch_all is the Lambda function for every request no endpoint
// route matches: unknown paths and verbs get the Data API's own 404, a
// missing or bad version its 400, and /v{N}/token.json and the like are
// served by the same code as the endpoints.
//
// What it serves is pkg/app.Functions["catch_all"]; template.yaml routes to it.
package main

import "github.com/mtauth/mtauth/pkg/app"

func main() { app.RunFunction("catch_all") }
