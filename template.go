// Package mtauth holds the project's AWS SAM template. It is embedded so
// that tools built from any directory (`go run ./cmd/mtauth serve`, the
// fixture runner) route and configure exactly as the deployed API does;
// pkg/samtemplate reads it.
package mtauth

import _ "embed"

// Template is template.yaml: the functions, their routes and policies,
// the API's gateway responses, the table and the settings.
//
//go:embed template.yaml
var Template []byte
