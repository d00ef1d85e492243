package token

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/retry"
)

// maxBody caps how much of a token response is read.
const maxBody = 1 << 20

// response is the part of a token response (RFC 6749, section 5.1) that
// the Source reads.
type response struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Scope       string          `json:"scope"`
}

// granted is a successful grant: the response as received and the token
// read from it.
type granted struct {
	raw      []byte
	tok      *Token
	obtained time.Time
}

// form returns the body of a client-credentials token request.
func (s *Source) form() url.Values {
	v := url.Values{}
	for k, vs := range s.cfg.Params {
		v[k] = append([]string(nil), vs...)
	}
	v.Set("grant_type", "client_credentials")
	if len(s.cfg.Scopes) > 0 {
		v.Set("scope", strings.Join(s.cfg.Scopes, " "))
	}
	if s.cfg.Audience != "" {
		v.Set("audience", s.cfg.Audience)
	}
	if s.cfg.Resource != "" {
		v.Set("resource", s.cfg.Resource)
	}
	if s.cfg.AuthStyle == AuthForm {
		v.Set("client_id", s.cfg.ClientID)
		v.Set("client_secret", string(s.cfg.ClientSecret))
	}
	return v
}

// grant asks the identity provider for a token, through the breaker.
func (s *Source) grant(ctx context.Context) (*granted, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, strings.NewReader(s.form().Encode()))
	if err != nil {
		return nil, fmt.Errorf("token: token request: %w", redact.Error(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.cfg.AuthStyle != AuthForm {
		// RFC 6749, section 2.3.1: form-encode both before Basic.
		req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(string(s.cfg.ClientSecret)))
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		// The *url.Error names TokenURL, whose query may hold a key.
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, redact.Error(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%w: read the token response: %w", ErrUnavailable, err)
	}
	now := s.cfg.now()
	if resp.StatusCode != http.StatusOK {
		return nil, retrieveError(resp, body, now)
	}
	tok, err := parse(body, now, s.cfg.DefaultExpiry)
	if err != nil {
		return nil, err
	}
	return &granted{raw: body, tok: tok, obtained: now}, nil
}

// retrieveError builds the error for a response that is not a 200.
func retrieveError(resp *http.Response, body []byte, now time.Time) *RetrieveError {
	e := &RetrieveError{StatusCode: resp.StatusCode, Body: bytes.Clone(body[:min(len(body), bodyExcerpt)])}
	var f struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorURI         string `json:"error_uri"`
	}
	if json.Unmarshal(body, &f) == nil {
		e.ErrorCode, e.ErrorDescription, e.ErrorURI = f.Error, f.ErrorDescription, f.ErrorURI
	}
	if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	return e
}

// parse reads a token response received at now. Its expiry is expires_in
// (a number or a numeric string) after now, else the JWT exp of the access
// token, else now + def.
func parse(body []byte, now time.Time, def time.Duration) (*Token, error) {
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		// The error may quote the body, which may hold the token.
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if r.AccessToken == "" {
		return nil, fmt.Errorf("%w: no access_token", ErrMalformed)
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer") {
		return nil, fmt.Errorf("%w: %q", ErrTokenType, r.TokenType)
	}
	tok := &Token{AccessToken: r.AccessToken, TokenType: "Bearer", Scope: r.Scope}
	if r.TokenType != "" {
		tok.TokenType = r.TokenType
	}
	switch {
	case expiresIn(r.ExpiresIn) > 0:
		tok.Expiry = now.Add(expiresIn(r.ExpiresIn))
	case !jwtExpiry(r.AccessToken).IsZero():
		tok.Expiry = jwtExpiry(r.AccessToken)
	default:
		tok.Expiry = now.Add(def)
	}
	return tok, nil
}

// expiresIn reads expires_in, a number of seconds or a string holding one;
// anything else, or a value of zero or less, gives 0.
func expiresIn(raw json.RawMessage) time.Duration {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0
		}
		s = strings.TrimSpace(s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsNaN(f) {
		return 0
	}
	if f >= float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(f * float64(time.Second))
}

// jwtExpiry returns the exp claim of tok if it is a JWS compact
// serialization, read without verifying the signature (the token is the
// client's own, from its provider, and only its lifetime is wanted), or the
// zero time.
func jwtExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == "" {
		return time.Time{}
	}
	f, err := c.Exp.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}
