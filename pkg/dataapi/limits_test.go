package dataapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/dataapi"
)

// TestLimitValues pins the limits to what the hardening issue asks for,
// so a change to one is a decision and not an accident.
func TestLimitValues(t *testing.T) {
	for name, tt := range map[string]struct{ got, want int }{
		"MaxBodyBytes":       {dataapi.MaxBodyBytes, 64 << 10},
		"MaxParams":          {dataapi.MaxParams, 64},
		"MaxParamBytes":      {dataapi.MaxParamBytes, 8 << 10},
		"MaxHeaderBytes":     {dataapi.MaxHeaderBytes, 16 << 10},
		"MaxAuthHeaderBytes": {dataapi.MaxAuthHeaderBytes, 4 << 10},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", name, tt.got, tt.want)
		}
	}
}

// TestLimits sends requests just within and just beyond each limit, and
// checks those beyond get their 4xx in the Data API's error shape while
// those within are served. A good sign-in is the request within, so a
// limit that refuses too early shows as a failed sign-in.
func TestLimits(t *testing.T) {
	e := newEnv(t, nil)
	pw := e.signInUser(t, "melody")
	const path = "/v4/authentication"
	good := signInForm("melody", pw)

	// withParams is the good form with extra parameters, n in all.
	withParams := func(n int) url.Values {
		form := signInForm("melody", pw)
		for i := 0; len(form) < n; i++ {
			form.Set(fmt.Sprintf("p%d", i), "1")
		}
		return form
	}
	withParam := func(size int) url.Values {
		form := signInForm("melody", pw)
		form.Set("pad", strings.Repeat("x", size))
		return form
	}
	const form = "application/x-www-form-urlencoded"
	// headerPadded is c with an X-Pad header bringing all its header
	// names and values to exactly size bytes.
	headerPadded := func(c call, size int) call {
		total := len("X-Pad")
		for name, value := range c.header {
			total += len(name) + len(value)
		}
		return c.withHeader("X-Pad", strings.Repeat("p", size-total))
	}
	// revoke is a DELETE, whose parameters come from the query only.
	revoke := func(query url.Values) call {
		c := request(http.MethodDelete, "/v4/token")
		c.query = query
		return c
	}
	queryParams := func(n int) url.Values {
		q := url.Values{}
		for i := range n {
			q.Set(fmt.Sprintf("q%d", i), "1")
		}
		return q
	}
	// A token of exactly 4 KiB with the scheme: within the limit, and
	// unknown, so 401.
	authWithin := "MTAuth accessToken=" + strings.Repeat("a", dataapi.MaxAuthHeaderBytes-len("MTAuth accessToken="))

	for _, tt := range []struct {
		name    string
		c       call
		code    int // 200: served; 401: within the limits but without credentials
		message string
	}{
		{"body of 64 KiB", postRaw(path, form, paddedForm(t, good, dataapi.MaxBodyBytes)), 200, ""},
		{"body of 64 KiB + 1", postRaw(path, form, paddedForm(t, good, dataapi.MaxBodyBytes+1)), 413, "Request Entity Too Large"},
		{"base64 body of 64 KiB + 1", postRaw(path, form, paddedForm(t, good, dataapi.MaxBodyBytes+1)).inBase64(), 413, "Request Entity Too Large"},
		{"multipart body over 64 KiB", postMultipart(path, withParam(dataapi.MaxBodyBytes)), 413, "Request Entity Too Large"},
		// A body of a type that is not parsed is not read, so its size
		// does not matter.
		{"JSON body over 64 KiB", postRaw("/v4/token", "application/json", strings.Repeat(" ", dataapi.MaxBodyBytes+1)), 401, "Unauthorized"},

		{"64 parameters", post(path, withParams(dataapi.MaxParams)), 200, ""},
		{"65 parameters", post(path, withParams(dataapi.MaxParams+1)), 400, "Bad Request"},
		{"65 multipart parameters", postMultipart(path, withParams(dataapi.MaxParams+1)), 400, "Bad Request"},
		{"64 in the body and 1 in the query", post(path, withParams(dataapi.MaxParams)).withQuery("extra", "1"), 400, "Bad Request"},
		{"64 query parameters", revoke(queryParams(dataapi.MaxParams)), 401, "Unauthorized"},
		{"65 query parameters", revoke(queryParams(dataapi.MaxParams + 1)), 400, "Bad Request"},

		{"parameter of 8 KiB", post(path, withParam(dataapi.MaxParamBytes)), 200, ""},
		{"parameter of 8 KiB + 1", post(path, withParam(dataapi.MaxParamBytes+1)), 400, "Bad Request"},
		{"multipart parameter of 8 KiB + 1", postMultipart(path, withParam(dataapi.MaxParamBytes+1)), 400, "Bad Request"},
		{"query parameter of 8 KiB", revoke(url.Values{"pad": {strings.Repeat("x", dataapi.MaxParamBytes)}}), 401, "Unauthorized"},
		{"query parameter of 8 KiB + 1", revoke(url.Values{"pad": {strings.Repeat("x", dataapi.MaxParamBytes+1)}}), 400, "Bad Request"},

		{"headers of 16 KiB", headerPadded(post(path, good), dataapi.MaxHeaderBytes), 200, ""},
		{"headers of 16 KiB + 1", headerPadded(post(path, good), dataapi.MaxHeaderBytes+1), 431, "Request Header Fields Too Large"},
		{"headers of 16 KiB + 1 on a DELETE", headerPadded(revoke(nil), dataapi.MaxHeaderBytes+1), 431, "Request Header Fields Too Large"},
		{"X-MT-Authorization of 4 KiB", post("/v4/token", nil).auth(authWithin), 401, "Unauthorized"},
		{"X-MT-Authorization of 4 KiB + 1", post("/v4/token", nil).auth(authWithin + "a"), 431, "Request Header Fields Too Large"},
		{"x-mt-authorization of 4 KiB + 1", post("/v4/token", nil).withHeader("x-mt-authorization", authWithin+"a"), 431, "Request Header Fields Too Large"},
		{"X-MT-Authorization of 4 KiB + 1 on a sign-in", post(path, good).auth(authWithin + "a"), 431, "Request Header Fields Too Large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == http.StatusOK {
				wantOK(t, e.invoke(t, tt.c))
				return
			}
			wantError(t, e.invoke(t, tt.c), tt.code, tt.message)
			if tt.code == http.StatusUnauthorized {
				return // within the limits, and the credentials are refused
			}
			// With suppressResponseCodes (in the query: a body too large
			// is not read) the status is 200 and the body the same.
			a := e.invoke(t, tt.c.withQuery("suppressResponseCodes", "1"))
			if a.status != http.StatusOK || a.body != errorBody(tt.code, tt.message) {
				t.Errorf("suppressed: got %d %s, want 200 %s", a.status, a.body, errorBody(tt.code, tt.message))
			}
		})
	}
}
