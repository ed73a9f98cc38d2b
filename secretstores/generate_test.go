package secretstores_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/secretstores"
)

func TestGeneratorMakesValuesOfItsPolicy(t *testing.T) {
	g := secretstores.Generator{Length: 24, Alphabet: "abcdefghij"}
	seen := map[string]bool{}
	for range 50 {
		v, err := g.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 24 || strings.Trim(v, g.Alphabet) != "" {
			t.Fatalf("value of length %d outside the alphabet", len(v))
		}
		seen[v] = true
	}
	if len(seen) != 50 {
		t.Errorf("50 values, %d distinct", len(seen))
	}
}

func TestGeneratorRefusesWeakPolicies(t *testing.T) {
	for name, g := range map[string]secretstores.Generator{
		"short":             {Length: 8, Alphabet: secretstores.URLSafe},
		"long":              {Length: 1000, Alphabet: secretstores.URLSafe},
		"small alphabet":    {Length: 32, Alphabet: "abc"},
		"repeated":          {Length: 32, Alphabet: "aaaaaaaaaaaa"},
		"space in alphabet": {Length: 32, Alphabet: "abcdefghij "},
	} {
		if _, err := g.Generate(); !errors.Is(err, secretstores.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}
