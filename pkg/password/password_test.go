package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerifies(t *testing.T) {
	h := Hash("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q, want an argon2id PHC string with our parameters", h)
	}
	if ok, err := Verify("correct horse", h); !ok || err != nil {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, err := Verify("correct horsf", h); ok || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	if Hash("correct horse") == h {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestGeneratedPasswordUsesFastHash(t *testing.T) {
	pw, h := Generate()
	if len(pw) != 32 || !strings.HasPrefix(h, "$sha256$") || strings.Contains(h, pw) {
		t.Fatalf("Generate() = %q, %q", pw, h)
	}
	if ok, err := Verify(pw, h); !ok || err != nil {
		t.Fatalf("Verify(generated) = %v, %v", ok, err)
	}
	if ok, _ := Verify(pw+"x", h); ok {
		t.Fatal("a different password matched the generated hash")
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2id$v=19$m=0,t=2,p=1$AAAA$AAAA", "$argon2id$v=18$m=1,t=1,p=1$AAAA$AAAA", "$sha256$!!$AAAA", "$md5$x$y"} {
		if ok, err := Verify("pw", h); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(pw, %q) = %v, %v; want false, ErrMalformedHash", h, ok, err)
		}
	}
}

func BenchmarkVerifyArgon2id(b *testing.B) {
	h := Hash("correct horse")
	for b.Loop() {
		_, _ = Verify("correct horse", h)
	}
}

func BenchmarkVerifyGenerated(b *testing.B) {
	pw, h := Generate()
	for b.Loop() {
		_, _ = Verify(pw, h)
	}
}

func TestSlow(t *testing.T) {
	_, generated := Generate()
	if !Slow(Hash("pw")) || Slow(generated) || Slow("") {
		t.Fatal("Slow does not tell argon2id hashes from the others")
	}
}
