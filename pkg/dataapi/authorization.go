package dataapi

import "strings"

// Authorization is the parsed X-MT-Authorization header: the key=value
// pairs after the MTAuth scheme. A key present with an empty value is
// different from a key absent (an empty accessToken still fails the
// global check).
type Authorization map[string]string

// Credential keys of the MTAuth scheme.
const (
	keyAccessToken  = "accessToken"
	keySessionID    = "sessionId"
	keyOneTimeToken = "oneTimeToken"
)

// ParseAuthorization parses `MTAuth key=value[, key=value ...]`.
//
// The scheme is the exact, case-sensitive word MTAuth followed by white
// space; anything else, including a bare "MTAuth", carries no credentials
// and yields nil. Pairs are separated by spaces and/or commas. A value is
// either bare (up to the next space or comma) or quoted with " or ' (up to
// the matching quote; a missing closing quote takes the rest). Pieces
// without "=" are ignored; the last of duplicate keys wins.
func ParseAuthorization(header string) Authorization {
	rest, ok := strings.CutPrefix(header, "MTAuth")
	if !ok || rest == "" || !isSpace(rest[0]) {
		return nil
	}
	pairs := Authorization{}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		end := strings.IndexAny(rest, "= \t,")
		if end < 0 || rest[end] != '=' {
			// A piece without "=": skip it.
			if end < 0 {
				break
			}
			rest = rest[end:]
			continue
		}
		key := rest[:end]
		rest = rest[end+1:]
		var value string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			quote := rest[0]
			rest = rest[1:]
			if closing := strings.IndexByte(rest, quote); closing >= 0 {
				value, rest = rest[:closing], rest[closing+1:]
			} else {
				value, rest = rest, ""
			}
		} else {
			end := strings.IndexAny(rest, " \t,")
			if end < 0 {
				end = len(rest)
			}
			value, rest = rest[:end], rest[end:]
		}
		if key != "" {
			pairs[key] = value
		}
	}
	return pairs
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
