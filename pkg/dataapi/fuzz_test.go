package dataapi

import (
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets for the parsers every request goes through. Each checks a
// property of the parser's answer, not only that it does not panic. Seeds
// are added here and committed under testdata/fuzz/<FuzzName>/; `make
// fuzz` runs each target for a bounded time (see the Makefile).

func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"MTAuth accessToken=abc",
		"MTAuth sessionId=s1, accessToken=t1",
		"MTAuth sessionId=s1 accessToken=t1",
		"MTAuth\tsessionId=s1",
		"MTAuth   sessionId=s1,,,accessToken=t1  ",
		`MTAuth accessToken="quoted value"`,
		`MTAuth sessionId="a b", accessToken='c,d'`,
		`MTAuth accessToken="unterminated`,
		`MTAuth accessToken='it''s'`,
		`MTAuth accessToken="a\"b"`,
		"MTAuth accessToken=, sessionId=s",
		"MTAuth accessToken=a, accessToken=b",
		"MTAuth accessToken=a accessToken=\"\" accessToken",
		"MTAuth x=1=2",
		"MTAuth =x sessionId=s",
		"MTAuth junk sessionId=s",
		"MTAuth oneTimeToken=o",
		"MTAuth ",
		"MTAuth",
		"MTAuth\x00accessToken=a",
		"MTAuth\naccessToken=a",
		"mtauth accessToken=abc",
		"MTAUTH accessToken=abc",
		" MTAuth accessToken=abc",
		"MTAuthaccessToken=abc",
		"Bearer abc",
		"MTAuth accessToken=" + strings.Repeat("a", 5000),
		"MTAuth " + strings.Repeat("k=v,", 1000),
		"MTAuth accessToken=\xff\xfe, sessionId=\u00e9",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := ParseAuthorization(header)
		scheme := strings.HasPrefix(header, "MTAuth ") || strings.HasPrefix(header, "MTAuth\t")
		if !scheme {
			if got != nil {
				t.Fatalf("ParseAuthorization(%q) = %q; want nil without the MTAuth scheme", header, got)
			}
			return
		}
		if got == nil {
			t.Fatalf("ParseAuthorization(%q) = nil; want a map after the MTAuth scheme", header)
		}
		for key := range got {
			if key == "" || strings.ContainsAny(key, " ,\t=") {
				t.Fatalf("ParseAuthorization(%q) has key %q", header, key)
			}
		}

		// What parsed can be written back, quoted, and parses the same,
		// unless a value holds the quote itself.
		for _, v := range got {
			if strings.Contains(v, `"`) {
				return
			}
		}
		keys := slices.Sorted(maps.Keys(got))
		pairs := make([]string, len(keys))
		for i, k := range keys {
			pairs[i] = fmt.Sprintf(`%s="%s"`, k, got[k])
		}
		again := "MTAuth " + strings.Join(pairs, ", ")
		if back := ParseAuthorization(again); !maps.Equal(back, got) {
			t.Fatalf("ParseAuthorization(%q) = %q, but its re-serialisation %q parses as %q", header, got, again, back)
		}
	})
}

func FuzzParseRoute(f *testing.F) {
	for _, seed := range []string{
		"/v1/authentication", "/v4/token", "/v7/token.json", "/v7/token.json.json",
		"/v4", "/v4/", "v4/token", "//v4/token", "/v4//token",
		"/v0/token", "/v8/token", "/v9/token", "/v07/token", "/v4x/token", "/v10/token",
		"/V4/token", "/v/token", "/v", "/", "", "/token", "/vv4/token",
		"/v\u0664/token", "/v4\x00/token", "/v4/%2e%2e/token", "/v4/../v3/token",
		"/v4/" + strings.Repeat("a/", 2000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		rt, apiErr := parseRoute(path)
		first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		switch apiErr {
		case nil:
		case errVersionRequired:
			if strings.HasPrefix(first, "v") {
				t.Fatalf("parseRoute(%q): version required, but the first segment %q starts with v", path, first)
			}
			return
		case errVersionInvalid:
			if !strings.HasPrefix(first, "v") {
				t.Fatalf("parseRoute(%q): version invalid, but the first segment %q has none", path, first)
			}
			return
		default:
			t.Fatalf("parseRoute(%q): unexpected error %+v", path, apiErr)
		}
		if rt.version < MinVersion || rt.version > MaxVersion {
			t.Fatalf("parseRoute(%q).version = %d", path, rt.version)
		}
		if !strings.HasPrefix(rt.path, "/") {
			t.Fatalf("parseRoute(%q).path = %q; want a leading /", path, rt.path)
		}
		// The route is the path: /v{N}, then the rest less one ".json".
		trimmed := strings.TrimPrefix(path, "/")
		version := fmt.Sprintf("v%d", rt.version)
		rest, ok := strings.CutPrefix(trimmed, version+"/")
		switch {
		case trimmed == version:
			if rt.path != "/" {
				t.Fatalf("parseRoute(%q).path = %q; want /", path, rt.path)
			}
		case !ok:
			t.Fatalf("parseRoute(%q) = version %d; the path does not start with /%s/", path, rt.version, version)
		case rt.path != "/"+strings.TrimSuffix(rest, ".json"):
			t.Fatalf("parseRoute(%q).path = %q; want %q", path, rt.path, "/"+strings.TrimSuffix(rest, ".json"))
		}
	})
}

// The hosts FuzzCheckRedirect checks against: the API's own (as the Host
// header says) and the operator's allowed ones. Names with k and s are on
// purpose: Unicode case folding matches them to non-ASCII letters.
var (
	fuzzAPIHosts     = []string{"mt.example.com", "mt.example.com:8080", "localhost:3000", "[::1]:3000", "127.0.0.1:3000", "auth.kiosk.example"}
	fuzzAllowedHosts = []string{"app.example.com", "blog.example.com:8443", "[::1]:4000", "kiosks.example.org"}
)

func FuzzCheckRedirect(f *testing.F) {
	for _, seed := range []string{
		"http://mt.example.com/app/", "https://mt.example.com:8080/app?x=1#f", "HTTP://MT.EXAMPLE.COM/app",
		"https://app.example.com/cb", "https://app.example.com:9443/cb", "https://app.example.com:/cb",
		"https://blog.example.com:8443/", "https://blog.example.com/", "https://kiosks.example.org/",
		"http://localhost:3000/", "http://[::1]:3000/", "http://[::1]:4000/", "http://[::1]/", "http://127.0.0.1:3000/",
		"http://[0:0::1]:3000/", "http://[::1%25lo]:3000/", "http://2130706433:3000/",
		"https://app.example.com@evil.example/", "https://user:pw@app.example.com/", "https://@app.example.com/",
		"https://app.example.com%2F@evil.example/", "https://app.example.com%40evil.example/",
		"https://evil.example#@app.example.com", "https://evil.example?@app.example.com/",
		`https:\\evil.example`, `https://app.example.com\@evil.example`, `https://app.example.com\.evil.example/`,
		"//app.example.com/", "///app.example.com/", "/app", "https:/app.example.com/", "https:app.example.com",
		"https:///app.example.com/", "https://", "https://:443/",
		"javascript:alert(1)", "JaVaScRiPt://app.example.com/%0aalert(1)", "data:text/html,<script>alert(1)</script>",
		"ftp://app.example.com/", "https://app.example.com./", "https://app.example.com.evil.example/",
		"https://xn--pp-8cd.example.com/", "https://\u0430pp.example.com/", "https://app\uff0eexample\uff0ecom/",
		"https://%61pp.example.com/", "https://app%2eexample.com/", "https://%d0%b0pp.example.com/",
		"https://app.example.com:443:80/", "https://app.example.com:99999/", "https://app.example.com:+443/",
		"https://app.example.com/\x00", "https://app.example.com\t/", "https://app.example.com\r\n/", " https://app.example.com/",
		"https://app.example.com/\u2028", "https://app.example.com/\u00a0", "https://app.example.com\u3000/",
		"",
	} {
		for i := range fuzzAPIHosts {
			f.Add(seed, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, raw string, hostChoice uint8) {
		apiHost := fuzzAPIHosts[int(hostChoice)%len(fuzzAPIHosts)]
		target, ok := checkRedirect(raw, apiHost, fuzzAllowedHosts)
		if !ok {
			if target.url != nil {
				t.Fatalf("checkRedirect(%q) refused but returned %v", raw, target.url)
			}
			return
		}
		u := target.url
		switch {
		case u == nil:
			t.Fatalf("checkRedirect(%q) accepted without a URL", raw)
		case u.Scheme != "http" && u.Scheme != "https":
			t.Fatalf("checkRedirect(%q) accepted scheme %q", raw, u.Scheme)
		case u.User != nil:
			t.Fatalf("checkRedirect(%q) accepted user info %q", raw, u.User)
		case u.Host == "" || u.Opaque != "":
			t.Fatalf("checkRedirect(%q) accepted a URL that is not absolute", raw)
		case strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '\\' }):
			t.Fatalf("checkRedirect(%q) accepted a backslash or control character", raw)
		}
		if target.sameHost {
			if !asciiEqualFold(u.Host, apiHost) {
				t.Fatalf("checkRedirect(%q) took host %q for the API's own %q", raw, u.Host, apiHost)
			}
		} else if !slices.ContainsFunc(fuzzAllowedHosts, func(h string) bool {
			return asciiEqualFold(h, u.Host) || asciiEqualFold(h, u.Hostname())
		}) {
			t.Fatalf("checkRedirect(%q) accepted host %q, not one of %q", raw, u.Host, fuzzAllowedHosts)
		}

		// A browser reads the host of such a URL as the text between
		// "//" and the first of / ? #; that must be the host checked.
		_, afterScheme, _ := strings.Cut(raw, "//")
		authority := afterScheme[:strings.IndexFunc(afterScheme+"/", func(r rune) bool { return strings.ContainsRune("/?#", r) })]
		if strings.Contains(authority, "@") || !asciiEqualFold(authority, u.Host) {
			t.Fatalf("checkRedirect(%q) checked host %q, but a browser goes to %q", raw, u.Host, authority)
		}

		// What is sent back in Location is the same URL.
		for _, fragment := range []string{"", "_login", "_ott_0123abcd"} {
			location := target.with(fragment)
			if strings.ContainsFunc(location, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '\\' }) {
				t.Fatalf("checkRedirect(%q): Location %q has a control character or backslash", raw, location)
			}
			back, err := url.Parse(location)
			if err != nil || back.Scheme != u.Scheme || back.Host != u.Host || back.User != nil || back.Fragment != fragment {
				t.Fatalf("checkRedirect(%q): Location %q reads back as %v (%v)", raw, location, back, err)
			}
		}
	})
}

// asciiEqualFold compares host names as DNS does: case-insensitively in
// ASCII only. strings.EqualFold would also match non-ASCII letters (K,
// the Kelvin sign, to k; ſ, long s, to s) that are other characters in a
// URL.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func FuzzSessionFromCookie(f *testing.F) {
	sid := strings.Repeat("ab", 20)
	for _, seed := range []struct {
		username, sessionID, clientID, cookie string
		remember                              bool
	}{
		{"melody", sid, "test", "mt_data_api_user_test=melody::" + sid + "::1", true},
		{"Melody Nelson::a;b,c=d\"é%", sid, "app_1-x", "mt_data_api_user_app_1-x=Melody+Nelson%3A%3Aa::" + sid + "::0", false},
		{"", sid, "test", "mt_data_api_user_test=::" + sid + "::0", false},
		{"melody", sid, "test", "mt_data_api_user_test=melody::::1", true},
		{"melody", sid, "test", "mt_data_api_user_test=melody::" + sid, true},
		{"melody", sid, "test", "mt_data_api_user_test=melody::a::b::c", true},
		{"melody", sid, "test", "mt_data_api_user_test=%zz::" + sid + "::1", true},
		{"melody", sid, "test", `mt_data_api_user_test="melody::` + sid + `::1"`, true},
		{"melody", sid, "test", "mt_data_api_user_test=a::b::1; mt_data_api_user_test=c::d::0", true},
		{"melody", sid, "test", "mt_data_api_user_other=melody::" + sid + "::1", true},
		{"\xff\x00", sid, "test", "mt_data_api_user_test=\xff::\x00::1", false},
		{strings.Repeat("m", 4096), sid, "test", "mt_data_api_user_test=" + strings.Repeat(":", 4096), true},
	} {
		f.Add(seed.username, seed.sessionID, seed.clientID, seed.cookie, seed.remember)
	}
	f.Fuzz(func(t *testing.T, username, sessionID, clientID, cookie string, remember bool) {
		// Whatever a browser sends: never a panic, and never a session
		// without an id.
		r := httptest.NewRequest(http.MethodPost, "/v4/token", nil)
		r.Header.Set("Cookie", cookie)
		if gotUser, gotSID, ok := sessionFromCookie(r, clientID); ok && (gotSID == "" || strings.Contains(gotSID, "::")) {
			t.Fatalf("cookie %q for %q read as user %q, session %q", cookie, clientID, gotUser, gotSID)
		}

		// What userCookie writes, the browser sends back, and it reads as
		// what was written. Session ids and client ids are of mtauth's own
		// making (hex; checked against clientIDFormat).
		if sessionID == "" || strings.ContainsFunc(sessionID, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) }) ||
			!clientIDFormat.MatchString(clientID) {
			return
		}
		c := userCookie(r, clientID, username, sessionID, remember)
		line := c.String()
		parsed, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q does not parse: %v", line, err)
		}
		if !parsed.HttpOnly || parsed.Value != c.Value {
			t.Fatalf("Set-Cookie %q: value %q, HttpOnly %v; want %q, HttpOnly", line, parsed.Value, parsed.HttpOnly, c.Value)
		}
		back := httptest.NewRequest(http.MethodPost, "/v4/token", nil)
		back.Header.Set("Cookie", parsed.Name+"="+parsed.Value)
		gotUser, gotSID, ok := sessionFromCookie(back, clientID)
		if !ok || gotUser != username || gotSID != sessionID {
			t.Fatalf("cookie %q read back as %q, %q, %v; want %q, %q", line, gotUser, gotSID, ok, username, sessionID)
		}
		if !strings.HasSuffix(parsed.Value, "::"+boolDigit(remember)) {
			t.Fatalf("cookie %q does not end in the remember flag %v", line, remember)
		}
	})
}

func FuzzPrefersHTML(f *testing.F) {
	for _, seed := range []string{
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
		"text/html", "TEXT/HTML", "text/*", "*/*", "application/json", "application/json, text/plain, */*",
		"text/html;q=0.5, application/json", "text/html;q=0", "text/html;q=NaN", "text/html;q=Inf, application/json;q=Inf",
		"text/html;q=-1", "text/html;q=1e400", `text/html;q="0.5"`, "text/html;;q=0.5", "text/html;q=0.5;q=0.9",
		"application/json;q=0.1, text/html", ",,,", ";", "text/html, \x00", strings.Repeat("text/html;q=0.1,", 2000), "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got := prefersHTML(accept)
		// Each media range counts on its own, so their order does not matter.
		parts := strings.Split(accept, ",")
		slices.Reverse(parts)
		if reversed := strings.Join(parts, ","); prefersHTML(reversed) != got {
			t.Fatalf("prefersHTML(%q) = %v, but reversed %q = %v", accept, got, reversed, !got)
		}
		// HTML is preferred only if some range names it.
		if !got {
			return
		}
		for _, part := range strings.Split(accept, ",") {
			mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && (mediaType == "text/html" || mediaType == "text/*" || mediaType == "*/*") {
				return
			}
		}
		t.Fatalf("prefersHTML(%q) = true without any range matching text/html", accept)
	})
}

// fuzzMethods are the verbs the request fuzzers choose from.
var fuzzMethods = []string{http.MethodPost, http.MethodGet, http.MethodDelete, http.MethodOptions, http.MethodPut, http.MethodHead, "post", ""}

func FuzzReadParams(f *testing.F) {
	const multipartBody = "--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nmelody\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"clientId\"\r\n\r\ntest\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"
	for _, seed := range []struct {
		method      uint8
		contentType string
		query, body string
	}{
		{0, "application/x-www-form-urlencoded", "", "clientId=test&username=melody&password=pw"},
		{0, "application/x-www-form-urlencoded; charset=utf-8", "clientId=q&x=1", "clientId=b&clientId=c"},
		{0, "APPLICATION/X-WWW-FORM-URLENCODED", "", "a=%zz"},
		{0, "application/x-www-form-urlencoded", "", "a=%4"},
		{0, "application/x-www-form-urlencoded", "a=%zz", "b=1"},
		{0, "application/x-www-form-urlencoded", "", "a;b=1&c=2"},
		{0, "application/x-www-form-urlencoded", "", "pad=" + strings.Repeat("x", MaxBodyBytes)},
		{0, "multipart/form-data; boundary=XyZ", "suppressResponseCodes=1", multipartBody},
		{0, "multipart/form-data; boundary=nope", "", multipartBody},
		{0, "multipart/form-data", "", multipartBody},
		{0, "multipart/form-data; boundary=XyZ", "", strings.TrimSuffix(multipartBody, "--XyZ--\r\n")},
		{0, "multipart/form-data; boundary=\"XyZ\"", "", multipartBody},
		{0, "multipart/mixed; boundary=XyZ", "", multipartBody},
		{0, "multipart/form-data; boundary=XyZ; boundary=XyZ", "", multipartBody},
		{0, "application/json", "", `{"username":"melody"}`},
		{0, "", "", "a=1"},
		{0, "text/plain; charset", "", "a=1"},
		{1, "", "clientId=test&redirectUrl=https%3A%2F%2Fapp.example.com%2F", ""},
		{2, "application/x-www-form-urlencoded", "__method=DELETE", "a=1"},
		{6, "application/x-www-form-urlencoded", "", "a=1"},
	} {
		f.Add(seed.method, seed.contentType, seed.query, seed.body)
	}
	f.Fuzz(func(t *testing.T, methodChoice uint8, contentType, query, body string) {
		method := fuzzMethods[int(methodChoice)%len(fuzzMethods)]
		r := &http.Request{
			Method: method, URL: &url.URL{Path: "/v4/authentication", RawQuery: query},
			Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		params, apiErr := readParams(httptest.NewRecorder(), r)
		switch apiErr {
		case nil, errBadRequest:
		case errTooLarge:
			if len(body) <= MaxBodyBytes {
				t.Fatalf("%s of %d bytes: 413 under the %d-byte limit", method, len(body), MaxBodyBytes)
			}
		default:
			t.Fatalf("readParams: unexpected error %+v", apiErr)
		}
		mediaType, _, ctErr := mime.ParseMediaType(contentType)
		if contentType == "" {
			mediaType, ctErr = "application/octet-stream", nil
		}
		urlencoded := method == http.MethodPost && ctErr == nil && mediaType == "application/x-www-form-urlencoded"
		wantQuery, queryErr := url.ParseQuery(query)
		switch {
		case queryErr != nil && apiErr != errBadRequest:
			t.Fatalf("query %.200q does not parse (%v), but readParams said %+v", query, queryErr, apiErr)
		case queryErr == nil && urlencoded && len(body) > MaxBodyBytes && apiErr != errTooLarge:
			t.Fatalf("urlencoded body of %d bytes: got %+v, want 413", len(body), apiErr)
		}
		if apiErr != nil {
			return
		}
		_ = checkParams(params) // must not panic on anything readParams returns

		// The body's parameters win over the query's.
		want := wantQuery
		switch {
		case method != http.MethodPost:
		case urlencoded:
			form, err := url.ParseQuery(body)
			if err != nil {
				t.Fatalf("urlencoded body %.200q does not parse (%v), yet readParams accepted it", body, err)
			}
			maps.Copy(want, form)
		default:
			// Multipart, or a body that is not parsed: every query
			// parameter the body did not set is there as sent.
			for key, values := range wantQuery {
				if _, inBody := r.PostForm[key]; !inBody && !slices.Equal(params[key], values) {
					t.Fatalf("query parameter %.200q = %.200q, want %.200q", key, params[key], values)
				}
			}
			if mediaType != "multipart/form-data" && len(params) != len(wantQuery) {
				t.Fatalf("a %q body added parameters: %.200q", contentType, params)
			}
			return
		}
		if !maps.EqualFunc(params, want, slices.Equal) {
			t.Fatalf("%s %.200q with body %.200q: params %.200q, want %.200q", method, query, body, params, want)
		}
	})
}
