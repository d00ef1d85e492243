package token

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

var (
	// ErrUnavailable is returned, wrapped, when no valid token can be
	// served because the identity provider is unavailable: it answered
	// 429 or 5xx, could not be reached, or its circuit breaker is open,
	// or another instance holds the refresh lease and no token came within
	// the wait. A *RetrieveError for a 429 or 5xx matches it with
	// errors.Is. A handler that returns it answers its own caller 503
	// "service unavailable" (HTTPStatus, PublicMessage; see package
	// httperror): the caller may try again later.
	ErrUnavailable error = unavailableError{}

	// ErrMalformed is returned, wrapped, when a successful token response
	// is not a JSON object or has no access_token.
	ErrMalformed = errors.New("token: malformed token response")

	// ErrTokenType is returned, wrapped, when the token response's
	// token_type is not "Bearer" (compared case-insensitively). A response
	// without token_type is taken as a bearer token.
	ErrTokenType = errors.New("token: token type is not Bearer")
)

// unavailableError is the type of ErrUnavailable.
type unavailableError struct{}

func (unavailableError) Error() string         { return "token: identity provider unavailable" }
func (unavailableError) HTTPStatus() int       { return http.StatusServiceUnavailable }
func (unavailableError) PublicMessage() string { return "service unavailable" }

// bodyExcerpt is how much of an error response RetrieveError keeps.
const bodyExcerpt = 512

// RetrieveError is the identity provider's refusal of a token request: any
// status but 200, with the error response fields of RFC 6749, section 5.2,
// when the body has them. A circuit breaker counts a 5xx (DownstreamStatus);
// a handler that returns it answers its own caller 503 "service
// unavailable" for a 429 or 5xx (with the provider's Retry-After, capped at
// a minute) and 502 "upstream error" for any other refusal (HTTPStatus,
// PublicMessage, Header), never the provider's status or text.
type RetrieveError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// ErrorCode is the "error" field, such as "invalid_client".
	ErrorCode string
	// ErrorDescription is the "error_description" field.
	ErrorDescription string
	// ErrorURI is the "error_uri" field.
	ErrorURI string
	// Body is the start of the response body (at most 512 bytes), which
	// Error does not print.
	Body []byte
	// RetryAfter is the delay of the response's Retry-After header, if
	// it had a valid one, as the server sent it. The Source sends no
	// request before it passes, or Config.MaxRetryAfter, whichever comes
	// first.
	RetryAfter time.Duration
}

// Error returns the status and the RFC 6749 fields, prefixed "token: ".
func (e *RetrieveError) Error() string {
	msg := fmt.Sprintf("token: token endpoint answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.ErrorCode != "" {
		msg += ": " + e.ErrorCode
	}
	if e.ErrorDescription != "" {
		msg += ": " + e.ErrorDescription
	}
	if e.ErrorURI != "" {
		msg += " (" + e.ErrorURI + ")"
	}
	return msg
}

// DownstreamStatus returns StatusCode, the provider's status, so that the
// circuit breaker counts a 5xx as a failure of the provider
// (breaker.DownstreamError) and a 4xx not.
func (e *RetrieveError) DownstreamStatus() int { return e.StatusCode }

// HTTPStatus returns the status of funcify's answer to its own caller when
// a handler returns the error (see package httperror): 503 when the
// provider is unavailable (a 429 or a 5xx, which match ErrUnavailable: the
// caller may try again later), 502 for any other refusal. Never the
// provider's own status: a 401 for a wrong client secret would tell the
// caller to authenticate again. The provider's text is not the caller's to
// read either.
func (e *RetrieveError) HTTPStatus() int {
	if unavailableStatus(e.StatusCode) {
		return http.StatusServiceUnavailable
	}
	return http.StatusBadGateway
}

// PublicMessage returns the message of that answer: "service unavailable"
// or "upstream error".
func (e *RetrieveError) PublicMessage() string {
	if unavailableStatus(e.StatusCode) {
		return "service unavailable"
	}
	return "upstream error"
}

// maxAnswerRetryAfter caps the Retry-After a provider's refusal passes on to
// funcify's caller, as Config.MaxRetryAfter's default caps the Source's own
// wait: a provider cannot tell every caller to stay away for a day.
const maxAnswerRetryAfter = time.Minute

// Header returns, for a provider that is unavailable and sent a
// Retry-After, that delay in whole seconds rounded up and capped at a
// minute; nil otherwise.
func (e *RetrieveError) Header() http.Header {
	if !unavailableStatus(e.StatusCode) || e.RetryAfter <= 0 {
		return nil
	}
	d := min(e.RetryAfter, maxAnswerRetryAfter)
	secs := (d + time.Second - 1) / time.Second
	return http.Header{"Retry-After": {strconv.FormatInt(int64(secs), 10)}}
}

// Unwrap returns ErrUnavailable for a 429 or a 5xx, nil otherwise.
func (e *RetrieveError) Unwrap() error {
	if unavailableStatus(e.StatusCode) {
		return ErrUnavailable
	}
	return nil
}

func unavailableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}
