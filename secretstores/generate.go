package secretstores

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"unicode/utf8"
)

// Generator is a rotation's generator policy: how long a new value is and
// which characters it is drawn from.
type Generator struct {
	Length   int    // characters, 16–256
	Alphabet string // distinct characters to draw from, at least 10
}

// The alphabets a generator policy names.
const (
	AlphaNumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	URLSafe      = AlphaNumeric + "-_"
	Printable    = AlphaNumeric + "!#$%&()*+,-./:;<=>?@[]^_{|}~"
)

// AlphabetNamed returns the alphabet a form or schedule names: "urlsafe",
// "alnum" or "printable" ("" for any other name, which Validate refuses).
func AlphabetNamed(name string) string {
	switch name {
	case "urlsafe":
		return URLSafe
	case "alnum":
		return AlphaNumeric
	case "printable":
		return Printable
	}
	return ""
}

// DefaultGenerator gives 40 URL-safe characters (about 240 bits).
var DefaultGenerator = Generator{Length: 40, Alphabet: URLSafe}

// Validate returns an error wrapping ErrInvalid for a policy that would
// make weak or unusable values.
func (g Generator) Validate() error {
	if g.Length < 16 || g.Length > 256 {
		return fmt.Errorf("%w: a generated value is 16–256 characters, not %d", ErrInvalid, g.Length)
	}
	seen := map[rune]bool{}
	for _, r := range g.Alphabet {
		if r < 0x21 || r > 0x7e || seen[r] {
			return fmt.Errorf("%w: the alphabet must be distinct printable ASCII characters", ErrInvalid)
		}
		seen[r] = true
	}
	if utf8.RuneCountInString(g.Alphabet) < 10 {
		return fmt.Errorf("%w: the alphabet needs at least 10 characters", ErrInvalid)
	}
	return nil
}

// Generate returns a new value drawn uniformly from crypto/rand, or the
// policy's validation error.
func (g Generator) Generate() (string, error) {
	if err := g.Validate(); err != nil {
		return "", err
	}
	out := make([]byte, g.Length)
	n := big.NewInt(int64(len(g.Alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", err
		}
		out[i] = g.Alphabet[k.Int64()]
	}
	return string(out), nil
}
