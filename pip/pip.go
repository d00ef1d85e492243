package pip

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/funcify/funcify/httperror"
	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/jwtauth"
)

// Config configures a [PIP]. The zero value of every field but Validator
// means the documented default.
type Config struct {
	// Validator validates the bearer tokens. Required.
	Validator *jwtauth.Validator
	// ActivitiesClaim names the claim that lists the subject's
	// activities: a JSON array of strings, or a string of space-separated
	// activities (as OAuth 2.0's "scope"). Empty means the first present
	// of "activities", "permissions", "scope" and "scp".
	ActivitiesClaim string
	// UserInfoURL, if set, is the provider's userinfo endpoint: the
	// subject is enriched with its answer, fetched with the caller's token
	// and cached for that token until the token expires. As OpenID
	// Connect Core §5.3.2 asks, an answer is used only if its "sub" is a
	// string equal to the token's "sub"; any other answer (no "sub", one
	// of another type or another subject, or a token without "sub") fails
	// the request with [ErrUserInfo], 503 from [PIP.Hook], and is not
	// cached. A URL that does not parse, or is not an absolute http or
	// https URL, fails every request that needs userinfo the same way,
	// with an error that names it without its query or user information.
	UserInfoURL string
	// HTTPClient fetches userinfo; nil means a client with a 5 s timeout.
	HTTPClient *http.Client
	// MaxCached bounds the userinfo cache; default 1,000 tokens.
	MaxCached int
}

// PIP is the policy information point: it builds the [Subject] of a request
// from its bearer token. It is safe for concurrent use.
type PIP struct {
	cfg    Config
	urlErr error            // why cfg.UserInfoURL cannot be fetched, or nil
	now    func() time.Time // the clock; tests set another (export_test.go)

	mu       sync.Mutex // guards userinfo
	userinfo map[[sha256.Size]byte]cachedInfo
}

type cachedInfo struct {
	info    map[string]any
	expires time.Time
}

// New returns a PIP, or an error if cfg.Validator is nil.
func New(cfg Config) (*PIP, error) {
	if cfg.Validator == nil {
		return nil, errors.New("pip: Config.Validator is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = 1000
	}
	p := &PIP{cfg: cfg, now: time.Now, userinfo: make(map[[sha256.Size]byte]cachedInfo)}
	if cfg.UserInfoURL != "" {
		p.urlErr = checkURL(cfg.UserInfoURL)
	}
	return p, nil
}

// checkURL returns why rawURL cannot be fetched, naming it without its
// query and user information, which may carry secrets: the error is
// logged by the app.
func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return fmt.Errorf("pip: UserInfoURL: %w", redact.Error(err))
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("pip: UserInfoURL %q is not an absolute http or https URL", redact.URL(u))
	}
	return nil
}

// Errors from [PIP.Subject] besides jwtauth's. Like jwtauth's, they carry
// the HTTP answer they call for (HTTPStatus, Header, PublicMessage), which
// funcify's httperror.Write and app.WriteError honour.
var (
	// ErrUserInfo: the userinfo endpoint could not be reached, answered
	// with an error other than 401, or answered for no subject or another
	// subject than the token's. It answers 503 "authentication
	// unavailable": the provider's failure, not the caller's.
	ErrUserInfo error = &userInfoError{msg: "pip: userinfo unavailable", status: http.StatusServiceUnavailable}
	// ErrUserInfoRefused: the userinfo endpoint refused the token (401).
	// It answers 401 "invalid token" with WWW-Authenticate
	// `Bearer error="invalid_token"`.
	ErrUserInfoRefused error = &userInfoError{msg: "pip: userinfo refused the token", status: http.StatusUnauthorized}
)

// userInfoError is the type of the userinfo errors.
type userInfoError struct {
	msg    string
	status int
}

func (e *userInfoError) Error() string   { return e.msg }
func (e *userInfoError) HTTPStatus() int { return e.status }

func (e *userInfoError) Header() http.Header {
	if e.status == http.StatusUnauthorized {
		return http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}
	}
	return nil
}

func (e *userInfoError) PublicMessage() string {
	if e.status == http.StatusUnauthorized {
		return "invalid token"
	}
	return "authentication unavailable"
}

// Subject returns the subject of a validated token: its "sub", claims and
// activities, enriched with userinfo when configured.
func (p *PIP) Subject(ctx context.Context, t *jwtauth.Token) (*Subject, error) {
	s := &Subject{ID: t.Subject, Claims: t.Claims, Activities: Activities(t.Claims, p.cfg.ActivitiesClaim)}
	if p.cfg.UserInfoURL != "" {
		info, err := p.userInfo(ctx, t)
		if err != nil {
			return nil, err
		}
		s.UserInfo = info
	}
	return s, nil
}

// Activities reads the activities listed in claims under claim; see
// [Config.ActivitiesClaim] for the empty claim name. Entries that are not
// strings, and empty ones, are skipped.
func Activities(claims map[string]any, claim string) []string {
	names := []string{claim}
	if claim == "" {
		names = []string{"activities", "permissions", "scope", "scp"}
	}
	for _, n := range names {
		v, ok := claims[n]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case string:
			return strings.Fields(v)
		case []any:
			out := make([]string, 0, len(v))
			for _, e := range v {
				if s, ok := e.(string); ok && s != "" {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	return nil
}

// userInfo fetches the userinfo of t, or returns it from the cache.
func (p *PIP) userInfo(ctx context.Context, t *jwtauth.Token) (map[string]any, error) {
	key := sha256.Sum256([]byte(t.Raw))
	now := p.now()
	p.mu.Lock()
	if c, ok := p.userinfo[key]; ok && now.Before(c.expires) {
		p.mu.Unlock()
		return c.info, nil
	}
	p.mu.Unlock()

	if p.urlErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserInfo, p.urlErr)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.UserInfoURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUserInfo, redact.Error(err))
	}
	req.Header.Set("Authorization", "Bearer "+t.Raw)
	req.Header.Set("Accept", "application/json")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		// The error names the URL, which may carry a secret in its
		// query: the app logs it.
		return nil, fmt.Errorf("%w: %v", ErrUserInfo, redact.Error(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, ErrUserInfoRefused
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: status %d", ErrUserInfo, resp.StatusCode)
	}
	var info map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&info); err != nil {
		return nil, fmt.Errorf("%w: decoding the answer: %v", ErrUserInfo, err)
	}
	// OpenID Connect Core §5.3.2: the answer must name its subject, and
	// it must be the token's; otherwise it is not used, and not cached.
	switch sub, ok := info["sub"].(string); {
	case !ok || sub == "":
		return nil, fmt.Errorf("%w: the answer has no \"sub\" string", ErrUserInfo)
	case sub != t.Subject:
		return nil, fmt.Errorf("%w: the answer is for another subject than the token's", ErrUserInfo)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.userinfo) >= p.cfg.MaxCached {
		for k, c := range p.userinfo {
			if !now.Before(c.expires) || len(p.userinfo) >= p.cfg.MaxCached {
				delete(p.userinfo, k)
			}
		}
	}
	p.userinfo[key] = cachedInfo{info: info, expires: t.ExpiresAt}
	return info, nil
}

// Hook returns the policy-information hook for funcify's app
// (app.WithPolicyInformation takes it):
//
//   - a request without a bearer token (no Authorization header, or
//     credentials of another scheme) goes on without a subject, so open
//     routes stay open and pdp's policies answer 401 where a subject is
//     required;
//   - a request with a bearer token that validates goes on with the
//     [Subject] ([FromContext]) and the token (jwtauth.TokenFromContext) in
//     its context;
//   - a request whose bearer token is malformed or does not validate, or
//     whose token the userinfo endpoint refuses, is answered 401 with
//     WWW-Authenticate `Bearer error="invalid_token"` (RFC 6750), without
//     saying why; or
//     503 when the provider's keys or userinfo cannot be had, which is the
//     provider's failure, not the caller's.
//
// The errors it returns carry that answer (HTTPStatus, Header,
// PublicMessage), under the step "authenticate": the mapping is jwtauth's
// and this package's errors' own, not the hook's.
func (p *PIP) Hook() func(r *http.Request) (context.Context, error) {
	return func(r *http.Request) (context.Context, error) {
		ctx := r.Context()
		if len(r.Header.Values("Authorization")) == 0 {
			return ctx, nil
		}
		t, err := p.cfg.Validator.Authenticate(r)
		if errors.Is(err, jwtauth.ErrNoToken) {
			// Credentials of another scheme, such as Basic: no bearer
			// token, so no subject (RFC 6750 §3.1); the decision points
			// answer 401 "Bearer" where a subject is required.
			return ctx, nil
		}
		if err == nil {
			var s *Subject
			if s, err = p.Subject(ctx, t); err == nil {
				return NewContext(jwtauth.NewContext(ctx, t), s), nil
			}
		}
		return nil, &httperror.Error{Step: "authenticate", Err: err}
	}
}
