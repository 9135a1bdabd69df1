package dataapi

import (
	"encoding/json"
	"net/http"
)

// apiError is an error answer in the Data API's shape.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// The Data API's error answers, with Movable Type's exact messages.
var (
	errBadRequest         = &apiError{http.StatusBadRequest, "Bad Request"}
	errVersionRequired    = &apiError{http.StatusBadRequest, "API Version is required"}
	errVersionInvalid     = &apiError{http.StatusBadRequest, "API Version is invalid"}
	errInvalidLogin       = &apiError{http.StatusUnauthorized, "Invalid login"}
	errUnauthorized       = &apiError{http.StatusUnauthorized, "Unauthorized"}
	errUnknownEndpoint    = &apiError{http.StatusNotFound, "Unknown endpoint"}
	errTooLarge           = &apiError{http.StatusRequestEntityTooLarge, "Request Entity Too Large"}
	errHeaderTooLarge     = &apiError{http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large"}
	errServiceUnavailable = &apiError{http.StatusServiceUnavailable, "Service Unavailable"}
	errInternal           = &apiError{http.StatusInternalServerError, "Internal Server Error"}
)

func errMethodNotAllowed(method string) *apiError {
	return &apiError{http.StatusMethodNotAllowed, "Request method is not '" + method + "' or 'POST' with '__method=" + method + "'"}
}

// setCommonHeaders sets the headers every answer carries.
func setCommonHeaders(h http.Header) {
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
}

// writeJSON writes a 200 JSON answer. encoding/json writes struct fields
// in declaration order, so answer types declare them sorted, as Movable
// Type sorts its keys.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own answer types get here; they always marshal.
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError writes an error answer; with suppressResponseCodes the HTTP
// status is 200 and only the body keeps the real code.
func writeError(w http.ResponseWriter, e *apiError, suppress bool) {
	body, _ := json.Marshal(struct {
		Error *apiError `json:"error"`
	}{e})
	w.Header().Set("Content-Type", "application/json")
	status := e.Code
	if suppress {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// The success answers. Fields are in sorted order.
type (
	signInResponse struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int64  `json:"expiresIn"`
		Remember    bool   `json:"remember"`
		SessionID   string `json:"sessionId,omitempty"`
	}
	tokenResponse struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int64  `json:"expiresIn"`
	}
	oneTimeTokenResponse struct {
		OneTimeToken string `json:"oneTimeToken"`
	}
	statusResponse struct {
		Status string `json:"status"`
	}
)

var success = statusResponse{Status: "success"}
