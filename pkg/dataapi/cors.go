package dataapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/mtauth/mtauth/pkg/config"
)

// preflightMaxAge lets browsers cache a preflight answer for ten minutes,
// short enough that a change of the CORS settings takes effect soon.
const preflightMaxAge = 10 * 60

// setCORSHeaders adds Movable Type's CORS headers when the request's Origin
// is allowed. Caches are told the answer depends on the Origin with
// Vary: Origin (Movable Type omits it).
func setCORSHeaders(h http.Header, r *http.Request, cors config.CORS) {
	if len(cors.AllowOrigins) == 0 {
		return
	}
	// The CORS headers appear only for requests with an allowed Origin, so
	// every answer depends on it, even with "*".
	h.Add("Vary", "Origin")
	wildcard := slices.Contains(cors.AllowOrigins, "*")
	origin := r.Header.Get("Origin")
	if origin == "" || (!wildcard && !slices.Contains(cors.AllowOrigins, origin)) {
		return
	}
	if wildcard {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	h.Set("Access-Control-Allow-Methods", cors.AllowMethods)
	h.Set("Access-Control-Allow-Headers", cors.AllowHeaders)
	h.Set("Access-Control-Expose-Headers", cors.ExposeHeaders)
	h.Set("XDomainRequestAllowed", "1")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Max-Age", strconv.Itoa(preflightMaxAge))
	}
}
