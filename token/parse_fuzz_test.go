package token

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse feeds token responses to the parser: it never panics, every
// failure is typed, and an accepted token has a value and an expiry after
// the moment it was received.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600}`,
		`{"access_token":"a","expires_in":"60"}`,
		`{"access_token":"a","expires_in":1e300}`,
		`{"access_token":"a.eyJleHAiOjE3OTU2MjY4MTV9.c"}`,
		`{"access_token":"a","token_type":"mac"}`,
		`{"access_token":""}`, `[]`, `null`, `{`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := parse(body, now, 5*time.Minute)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTokenType) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if tok.AccessToken == "" {
			t.Fatal("accepted a token without a value")
		}
		if !tok.Expiry.After(now.Add(-time.Hour)) && jwtExpiry(tok.AccessToken).IsZero() {
			t.Fatalf("expiry %v before the response was received", tok.Expiry)
		}
	})
}
