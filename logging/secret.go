package logging

import (
	"fmt"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret is a string, such as a password or a token, that must not appear in
// logs. It is logged, printed by fmt with any verb, and marshalled to JSON or
// text as "[REDACTED]". Convert it to a string to use its value:
//
//	req.Header.Set("Authorization", "Bearer "+string(token))
type Secret string

// LogValue returns "[REDACTED]", so that slog never logs the secret, even
// when it is passed with slog.Any or as a key-value argument.
func (Secret) LogValue() slog.Value {
	return slog.StringValue(redacted)
}

// String returns "[REDACTED]".
func (Secret) String() string {
	return redacted
}

// Format writes "[REDACTED]" whatever the verb and flags, so that %v, %#v,
// %x and the others do not print the secret.
func (Secret) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(redacted))
}

// MarshalText returns "[REDACTED]", so that a Secret field in a struct logged
// with slog.Any, or otherwise marshalled with encoding/json, does not leak.
func (Secret) MarshalText() ([]byte, error) {
	return []byte(redacted), nil
}
