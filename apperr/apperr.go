// Package apperr defines Gatehouse's one application error type.
//
// Every layer returns *Error (or wraps one) for failures a user can act on.
// The Code decides the HTTP status, which handlers map in exactly one place;
// Message is safe to show to a person; the wrapped Err holds internals that
// are logged and never rendered.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an application error.
type Code string

// The codes. Handlers map each to one HTTP status.
const (
	Invalid         Code = "invalid"           // the input is wrong; nothing was changed
	Unauthenticated Code = "unauthenticated"   // no valid session: sign in (again)
	NotFound        Code = "not_found"         // no such object, or not visible to the caller
	Forbidden       Code = "forbidden"         // the caller may not do this
	Conflict        Code = "conflict"          // the object's state forbids it, or it exists already
	Unavailable     Code = "unavailable"       // a dependency (PostgreSQL, Vault, an IdP) is down
	TooManyRequests Code = "too_many_requests" // the caller is over a rate limit; nothing was done
	Internal        Code = "internal"          // a bug or an unexpected failure
)

// Error is an application error: a code, a message safe for users, optional
// per-field messages for forms, the wrapped internal cause, and — when the
// caller should come back later — how long to wait first.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
	Err     error
	// RetryAfter, when positive, is how long the caller should wait before
	// trying again (sent as HTTP Retry-After).
	RetryAfter time.Duration
}

// Error returns the user message and, if present, the internal cause.
// It is meant for logs, not for pages: render Message instead.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the internal cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the code and user-facing message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Wrap returns an error with the code and message that wraps the internal cause err.
func Wrap(code Code, msg string, err error) *Error {
	return &Error{Code: code, Message: msg, Err: err}
}

// Throttled returns a TooManyRequests error with the user-facing message,
// telling the caller to retry after wait.
func Throttled(msg string, wait time.Duration) *Error {
	return &Error{Code: TooManyRequests, Message: msg, RetryAfter: wait}
}

// InvalidFields returns an Invalid error carrying per-field messages for a form.
func InvalidFields(msg string, fields map[string]string) *Error {
	return &Error{Code: Invalid, Message: msg, Fields: fields}
}

// As returns the *Error in err's chain, or an Internal error wrapping err
// when there is none. It returns nil for a nil err.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "Something went wrong on our side.", Err: err}
}

// CodeOf returns the code of err: "" for nil, Internal when err is not an *Error.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}
