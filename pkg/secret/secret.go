// Package secret makes the bearer secrets mtauth hands out (session ids,
// access tokens, one-time tokens) and the only form in which they are kept.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// Size is the number of random bytes in a secret: 160 bits, written as the
// 40 lowercase hex characters Movable Type's clients expect.
const Size = 20

// New returns a fresh secret from the operating system's cryptographic
// random source.
func New() string {
	b := make([]byte, Size)
	rand.Read(b) // never fails: crypto/rand aborts the program instead
	return hex.EncodeToString(b)
}

// Hash returns the hex SHA-256 of a secret. Secrets are stored and looked
// up only by this hash, so a copy of the table grants nothing; a fast hash
// is enough because a secret has 160 bits of entropy.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
