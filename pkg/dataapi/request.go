package dataapi

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Limits on what a request may carry. Sign-in forms are a few hundred
// bytes; anything near these is not a Data API client, and refusing it
// early keeps parsing cheap.
const (
	MaxBodyBytes       = 64 << 10 // 413 beyond
	MaxParams          = 64       // distinct parameter names; 400 beyond
	MaxParamBytes      = 8 << 10  // one parameter value; 400 beyond
	MaxHeaderBytes     = 16 << 10 // all header names and values; 431 beyond
	MaxAuthHeaderBytes = 4 << 10  // X-MT-Authorization; 431 beyond
)

// request is what the Data API rules need from an HTTP request.
type request struct {
	realMethod string
	method     string // after the __method override
	params     url.Values
	suppress   bool
	auth       Authorization
}

// readParams returns the request's parameters. POST bodies may be
// urlencoded or multipart (the JavaScript SDK sends multipart); the query
// string is merged in and the body wins on a clash. Other verbs read only
// the query string. Any other body type (JSON, say) is not parsed.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, *apiError) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errBadRequest
	}
	if r.Method != http.MethodPost {
		return query, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		err = r.ParseMultipartForm(MaxBodyBytes)
	} else {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case err != nil:
		return nil, errBadRequest
	}
	params := query
	for key, values := range r.PostForm {
		params[key] = values
	}
	return params, nil
}

// parseRequest applies the rules every endpoint shares: parameters,
// suppressResponseCodes, the __method override and X-MT-Authorization.
func parseRequest(w http.ResponseWriter, r *http.Request) (*request, *apiError) {
	if apiErr := checkHeaders(r.Header); apiErr != nil {
		return &request{suppress: suppressed(r.URL.Query())}, apiErr
	}
	params, apiErr := readParams(w, r)
	if apiErr == nil {
		apiErr = checkParams(params)
	}
	if apiErr != nil {
		// The body could not be read; suppressResponseCodes may still be
		// in the query.
		return &request{suppress: suppressed(r.URL.Query())}, apiErr
	}
	req := &request{realMethod: r.Method, method: r.Method, params: params, suppress: suppressed(params)}
	if override := params.Get("__method"); override != "" {
		switch {
		case r.Method == http.MethodPost:
			req.method = strings.ToUpper(override)
		case strings.ToUpper(override) != r.Method:
			return req, errMethodNotAllowed(override)
		}
	}
	// An empty header counts as absent, so the form field is read then.
	switch header := r.Header.Get("X-MT-Authorization"); {
	case header != "":
		req.auth = ParseAuthorization(header)
	case r.Method == http.MethodPost:
		req.auth = ParseAuthorization(params.Get("X-MT-Authorization"))
	}
	return req, nil
}

func checkHeaders(h http.Header) *apiError {
	total := 0
	for name, values := range h {
		for _, v := range values {
			total += len(name) + len(v)
			if name == "X-Mt-Authorization" && len(v) > MaxAuthHeaderBytes {
				return errHeaderTooLarge
			}
		}
	}
	if total > MaxHeaderBytes {
		return errHeaderTooLarge
	}
	return nil
}

func checkParams(params url.Values) *apiError {
	if len(params) > MaxParams {
		return errBadRequest
	}
	for _, values := range params {
		for _, v := range values {
			if len(v) > MaxParamBytes {
				return errBadRequest
			}
		}
	}
	return nil
}

// suppressed reads suppressResponseCodes: true unless absent, "" or "0".
func suppressed(params url.Values) bool {
	v, ok := params["suppressResponseCodes"]
	return ok && len(v) > 0 && v[0] != "" && v[0] != "0"
}

// flag reads a boolean parameter such as remember: false when absent, "",
// "0" or (unlike Movable Type) "false" in any case.
func flag(params url.Values, name string) bool {
	v := params.Get(name)
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

var clientIDFormat = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// maxClientIDBytes keeps a clientId short enough to name a cookie
// (mt_data_api_user_<clientId>) that browsers will store.
const maxClientIDBytes = 255

// clientID returns the clientId parameter if it is well formed; "0" counts
// as empty, as in Movable Type.
func clientID(params url.Values) (string, bool) {
	id := params.Get("clientId")
	return id, id != "0" && len(id) <= maxClientIDBytes && clientIDFormat.MatchString(id)
}
