package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestAsKeepsCodeThroughWrapping(t *testing.T) {
	base := New(NotFound, "No such tenant.")
	wrapped := fmt.Errorf("loading: %w", base)
	if got := As(wrapped); got != base {
		t.Fatalf("As(wrapped) = %v, want the original error", got)
	}
	if CodeOf(wrapped) != NotFound {
		t.Fatalf("CodeOf = %s", CodeOf(wrapped))
	}
}

func TestAsTurnsUnknownErrorsIntoInternalWithoutLeakingThem(t *testing.T) {
	cause := errors.New("pq: password authentication failed for user x")
	e := As(cause)
	if e.Code != Internal {
		t.Fatalf("code = %s", e.Code)
	}
	if e.Message == cause.Error() {
		t.Fatal("internal cause leaked into the user message")
	}
	if !errors.Is(e, cause) {
		t.Fatal("cause not kept for logs")
	}
	if As(nil) != nil || CodeOf(nil) != "" {
		t.Fatal("nil must stay nil")
	}
}
