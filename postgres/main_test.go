package postgres_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/testenv"
)

var stack *testenv.Stack

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}, &stack) }
