package secret

import (
	"regexp"
	"testing"
)

func TestNewIsFortyLowercaseHexAndUnique(t *testing.T) {
	format := regexp.MustCompile(`^[0-9a-f]{40}$`)
	seen := map[string]bool{}
	for range 1000 {
		s := New()
		if !format.MatchString(s) {
			t.Fatalf("New() = %q, want 40 lowercase hex characters", s)
		}
		if seen[s] {
			t.Fatalf("New() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHashIsSHA256Hex(t *testing.T) {
	// sha256("abc"), from FIPS 180-2.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := Hash("abc"); got != want {
		t.Fatalf("Hash(abc) = %s, want %s", got, want)
	}
	if Hash("abc") == Hash("abd") {
		t.Fatal("different secrets hash alike")
	}
}
