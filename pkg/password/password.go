// Package password hashes and checks passwords.
//
// Passwords people choose are stored as argon2id PHC strings
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), slow on purpose. A web services
// password that mtauth generates carries 128 bits of randomness, so
// guessing it is hopeless however fast the hash; it is stored as a salted
// SHA-256 in the same $-separated form ($sha256$salt$hash), and Verify
// tells the two apart by their prefix.
package password

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane), which keeps a check near 30 ms and within a 256 MB Lambda while
// making each guess cost an attacker the same memory.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	saltLen        = 16
)

var b64 = base64.RawStdEncoding

// ErrMalformedHash means a stored hash is not in a form this package writes.
var ErrMalformedHash = errors.New("password: malformed hash")

// Hash returns the argon2id PHC string of a password someone chose.
func Hash(password string) string {
	salt := randomBytes(saltLen)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Generate returns a new random web services password (128 bits, as 32 hex
// characters) and the fast hash to store for it.
func Generate() (password, hash string) {
	password = hex.EncodeToString(randomBytes(16))
	return password, hashGenerated(password)
}

func hashGenerated(password string) string {
	salt := randomBytes(saltLen)
	sum := sha256.Sum256(append(salt, password...))
	return "$sha256$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(sum[:])
}

// Verify reports whether password matches the stored hash, in time that
// does not depend on where they differ. An empty hash (no password set)
// never matches.
func Verify(password, hash string) (bool, error) {
	want, got, err := derive(password, hash)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want, got) == 1, nil
}

// dummyHash is a hash of a password nobody knows, for VerifyDummy. It is
// made on first use, not at start-up, where it would add an argon2id
// computation to the cold start of every function, even those that never
// check a password.
var dummyHash = sync.OnceValue(func() string { return Hash(hex.EncodeToString(randomBytes(16))) })

// VerifyDummy does the work of checking a password against a stored hash
// and always fails. Sign-in calls it when there is no hash to check (an
// unknown user), so the answer takes as long as for a known user and
// response times do not reveal which usernames exist.
func VerifyDummy(password string) {
	_, _ = Verify(password, dummyHash())
}

// Slow reports whether checking a password against hash costs a full
// argon2id computation; a generated password's fast hash does not.
func Slow(hash string) bool { return strings.HasPrefix(hash, "$argon2id$") }

func derive(password, hash string) (want, got []byte, err error) {
	parts := strings.Split(hash, "$")
	switch {
	case len(parts) == 4 && parts[1] == "sha256":
		salt, err1 := b64.DecodeString(parts[2])
		want, err2 := b64.DecodeString(parts[3])
		if err1 != nil || err2 != nil {
			return nil, nil, ErrMalformedHash
		}
		sum := sha256.Sum256(append(salt, password...))
		return want, sum[:], nil
	case len(parts) == 6 && parts[1] == "argon2id":
		var version int
		var memory, passes uint32
		var threads uint8
		if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
			return nil, nil, ErrMalformedHash
		}
		if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil || memory == 0 || passes == 0 || threads == 0 {
			return nil, nil, ErrMalformedHash
		}
		salt, err1 := b64.DecodeString(parts[4])
		want, err2 := b64.DecodeString(parts[5])
		if err1 != nil || err2 != nil || len(want) == 0 {
			return nil, nil, ErrMalformedHash
		}
		return want, argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want))), nil
	default:
		return nil, nil, ErrMalformedHash
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
