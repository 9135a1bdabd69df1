package mtauth_test

import (
	"fmt"
	"regexp"
)

// expectation is what a fixture's function must answer, checked by
// TestFixturesUnderTheEmulator. Every events/*.json needs one here
// (TestFixturesAreAPIGatewayEvents fails otherwise).
type expectation struct {
	status int
	// body is a regexp the body must match.
	body string
	// contentType is the Content-Type; "" means application/json, and
	// noContentType none at all.
	contentType string
	// headers are further headers: name -> regexp of its single value.
	headers map[string]string
	// cookies are regexps of the Set-Cookie values, in order; none means
	// the answer must set no cookie.
	cookies []string
}

const noContentType = "-"

// Bodies the Data API answers.
const (
	signInBody       = `^\{"accessToken":"[0-9a-f]{40}","expiresIn":3600,"remember":false,"sessionId":"[0-9a-f]{40}"\}$`
	rememberedBody   = `^\{"accessToken":"[0-9a-f]{40}","expiresIn":3600,"remember":true,"sessionId":"[0-9a-f]{40}"\}$`
	tokenBody        = `^\{"accessToken":"[0-9a-f]{40}","expiresIn":3600\}$`
	successBody      = `^\{"status":"success"\}$`
	oneTimeTokenBody = `^\{"oneTimeToken":"[0-9a-f]{40}"\}$`
	signInPage       = `(?is)^<!doctype html>.*<form[^>]* method="post".*</html>\s*$`
	htmlType         = "text/html; charset=utf-8"
)

func errorBody(code int, message string) string {
	return "^" + regexp.QuoteMeta(fmt.Sprintf(`{"error":{"code":%d,"message":"%s"}}`, code, message)) + "$"
}

func invalidParameterPage() expectation {
	return expectation{status: 400, body: `(?is)^<!doctype html>.*Invalid parameter\..*</html>\s*$`, contentType: htmlType}
}

// secure is how mtauth's cookies end behind API Gateway, which says the
// client came over HTTPS (X-Forwarded-Proto: https). Behind sam local
// start-api (http) they lack Secure.
const secure = `; Path=/; HttpOnly; Secure; SameSite=Lax$`

var fixtureExpectations = map[string]expectation{
	"authorize-success": {status: 200, body: signInPage, contentType: htmlType,
		headers: map[string]string{"Content-Security-Policy": `^default-src 'none'; `},
		cookies: []string{`^mt_data_api_login_magic_token=[0-9a-f]{40}` + secure}},
	"authorize-invalid-redirect":  invalidParameterPage(),
	"authorize-missing-client-id": invalidParameterPage(),

	"authenticate-success":                 {status: 200, body: signInBody},
	"authenticate-v2-sign-in-password":     {status: 200, body: signInBody},
	"authenticate-multipart":               {status: 200, body: rememberedBody},
	"authenticate-base64":                  {status: 200, body: signInBody},
	"authenticate-wrong-password":          {status: 401, body: errorBody(401, "Invalid login")},
	"authenticate-missing-client-id":       {status: 400, body: errorBody(400, "Bad Request")},
	"authenticate-invalid-version":         {status: 400, body: errorBody(400, "API Version is invalid")},
	"authenticate-suppress-response-codes": {status: 200, body: errorBody(401, "Invalid login")},
	"authenticate-bad-access-token":        {status: 401, body: errorBody(401, "Unauthorized")},
	"authenticate-sign-out-via-method":     {status: 200, body: successBody},
	"authenticate-one-time-token":          {status: 200, body: oneTimeTokenBody},
	"authenticate-magic-token-cookie": {status: 200,
		body: `^\{"accessToken":"[0-9a-f]{40}","expiresIn":3600,"remember":false\}$`,
		cookies: []string{
			`^mt_data_api_user_app=melody::[0-9a-f]{40}::0` + secure,
			`^mt_data_api_login_magic_token=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax$`,
		}},

	"revoke_authentication-success": {status: 200, body: successBody,
		cookies: []string{`^mt_data_api_user_app=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax$`}},
	"revoke_authentication-access-token":    {status: 200, body: successBody},
	"revoke_authentication-no-credentials":  {status: 401, body: errorBody(401, "Unauthorized")},
	"revoke_authentication-unknown-session": {status: 401, body: errorBody(401, "Unauthorized")},

	"get_token-success":           {status: 200, body: tokenBody},
	"get_token-access-token":      {status: 200, body: tokenBody},
	"get_token-lowercase-header":  {status: 200, body: tokenBody},
	"get_token-no-credentials":    {status: 401, body: errorBody(401, "Unauthorized")},
	"get_token-revoke-via-method": {status: 200, body: successBody},
	"get_token-one-time-token":    {status: 200, body: signInBody},
	"get_token-user-cookie":       {status: 200, body: tokenBody},

	"revoke_token-success":         {status: 200, body: successBody},
	"revoke_token-session-id":      {status: 401, body: errorBody(401, "Unauthorized")},
	"revoke_token-unknown-token":   {status: 401, body: errorBody(401, "Unauthorized")},
	"revoke_token-method-mismatch": {status: 405, body: errorBody(405, "Request method is not 'POST' or 'POST' with '__method=POST'")},

	"catch_all-unknown-verb":      {status: 404, body: errorBody(404, "Unknown endpoint")},
	"catch_all-unknown-path":      {status: 404, body: errorBody(404, "Unknown endpoint")},
	"catch_all-options":           {status: 200, body: `^$`, contentType: noContentType, headers: map[string]string{"Allow": `^DELETE, POST, OPTIONS$`}},
	"catch_all-version-required":  {status: 400, body: errorBody(400, "API Version is required")},
	"catch_all-root":              {status: 400, body: errorBody(400, "API Version is required")},
	"catch_all-invalid-version":   {status: 400, body: errorBody(400, "API Version is invalid")},
	"catch_all-token-json":        {status: 200, body: tokenBody},
	"catch_all-revoke-token-json": {status: 200, body: successBody},
}
