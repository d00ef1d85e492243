package token

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	randv2 "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/funcify/funcify/breaker"
	"github.com/funcify/funcify/internal/breakerclock"
	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/window"
)

// AuthStyle is how the client authenticates to the token endpoint.
type AuthStyle int

const (
	// AuthBasic sends the client id and secret in an HTTP Basic
	// Authorization header, each form-encoded first as RFC 6749, section
	// 2.3.1, requires. The default.
	AuthBasic AuthStyle = iota
	// AuthForm sends client_id and client_secret in the request body.
	AuthForm
)

// Defaults of [Config].
const (
	DefaultExpiry        = 5 * time.Minute
	DefaultLeaseDuration = 10 * time.Second
	DefaultLeaseWait     = 15 * time.Second
	DefaultStoreTimeout  = time.Second
	DefaultMaxRetryAfter = time.Minute
)

// Config configures a [Source]. The zero value of every field but TokenURL
// and ClientID means the documented default.
type Config struct {
	// TokenURL is the identity provider's token endpoint. Required.
	TokenURL string
	// ClientID is the client's id. Required.
	ClientID string
	// ClientSecret is the client's secret. It is never logged: a
	// logging.Secret prints as "[REDACTED]".
	ClientSecret logging.Secret
	// Scopes are sent space-separated as scope, if any.
	Scopes []string
	// Audience is sent as audience (as Auth0 and others want), if set.
	Audience string
	// Resource is sent as resource (RFC 8707), if set.
	Resource string
	// Params are more form parameters for the token request. They cannot
	// override grant_type, scope, audience, resource or the client's
	// credentials.
	Params url.Values
	// AuthStyle is how the client authenticates. Default AuthBasic.
	AuthStyle AuthStyle

	// Store is where the token is shared by every instance of the
	// function, with the refresh lease. Nil: each Source keeps its token
	// in memory only.
	Store store.Store
	// Key is the token's key in Store. Default "token/" and a hash of
	// TokenURL, ClientID, Scopes, Audience and Resource, so that Sources
	// with the same client and request share one token.
	Key string
	// EncryptionKey, if set, must be 32 bytes: the token is sealed with
	// AES-256-GCM in Store, so that the store never holds it in plain
	// text. Every Source sharing Key must have the same key. The sealed
	// token takes about a third more room in the store: see "Store sizes"
	// in the package documentation.
	EncryptionKey []byte
	// LeaseDuration is how long the refresh lease lasts, and bounds the
	// token request of its holder. A stored lease that ends more than
	// LeaseDuration and 5 seconds from now is ignored. Default 10 seconds.
	LeaseDuration time.Duration
	// LeaseWait is how long a caller without a valid token waits for
	// another instance's grant (within its context's deadline) before it
	// fails with ErrUnavailable. Default 15 seconds.
	LeaseWait time.Duration
	// StoreTimeout bounds each Store call. Default 1 second.
	StoreTimeout time.Duration
	// MaxRetryAfter caps the Retry-After of a 429 or 503: the Source sends
	// no token request before the server's delay or MaxRetryAfter has
	// passed, whichever is first, so that a server's "come back tomorrow"
	// cannot keep an instance without a token once the provider has
	// recovered. Default 1 minute.
	MaxRetryAfter time.Duration

	// Window places the random refresh window before the expiry; see
	// package window. A window that does not fit a token's life is scaled
	// to it with window.Settings.Fit.
	Window window.Settings
	// DefaultExpiry is the lifetime of a token whose response has no
	// expires_in and which is not a JWT with exp. Default 5 minutes.
	DefaultExpiry time.Duration

	// HTTPClient sends the token requests. Default a client with a
	// 10-second timeout over http.DefaultTransport. Whatever its timeout,
	// each request is bounded by the Source too: 10 seconds, at most three
	// quarters of the time left before the caller's deadline, and within a
	// refresh's budget while a valid token is served (see Source.Token).
	HTTPClient *http.Client
	// Breaker guards the token endpoint. Default a process-local breaker
	// of its own with breaker's defaults, named "token " and TokenURL
	// without its query.
	Breaker *breaker.Breaker
	// Logger receives the Source's logs, none of which holds a token or a
	// secret. Default slog.Default().
	Logger *slog.Logger

	// now returns the current time, time.Now unless set by this package's
	// tests (export_test.go), which move time without sleeping. It is the
	// clock of tokens, windows, backoffs and the default Breaker; timers
	// and deadlines run on the real time.
	now func() time.Time
	// rand returns a number in [0, 1) for the random window, drawn once
	// per token; math/rand/v2.Float64 unless set by this package's tests.
	// It must be safe for concurrent use.
	rand func() float64
}

// Token is an access token.
//
// Printing a Token with fmt or logging it with slog shows its type, expiry
// and scope, and "[REDACTED]" for the access token itself.
type Token struct {
	// AccessToken is the token to send as "Authorization: Bearer".
	AccessToken string
	// TokenType is the token_type of the response, "Bearer" in some case.
	TokenType string
	// Expiry is when the token expires.
	Expiry time.Time
	// Scope is the scope of the response, if it had one.
	Scope string
}

// String returns the token with its access token redacted.
func (t Token) String() string {
	return fmt.Sprintf("%s token [REDACTED], expiry %s, scope %q", t.TokenType, t.Expiry.Format(time.RFC3339), t.Scope)
}

// Format writes String whatever the verb, so that no verb prints the
// access token.
func (t Token) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(t.String()))
}

// LogValue logs the token's type, expiry and scope, and "[REDACTED]" for
// the access token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", "[REDACTED]"),
		slog.String("token_type", t.TokenType),
		slog.Time("expiry", t.Expiry),
		slog.String("scope", t.Scope),
	)
}

// Source gets the function's own access token with the OAuth 2.0 client
// credentials grant, and keeps it in memory and in the shared store. It is
// safe for concurrent use; build one at init and share it.
//
// Its layers (see "How a token is had" in the package documentation) are
// methods of Source: memory here (Token, entry), the refresh in
// refresh.go, the shared store and its lease in shared.go and lease.go, the
// grant in provider.go and grant.go.
type Source struct {
	cfg    Config
	key    string
	id     string // this Source's lease holder id
	aead   cipher.AEAD
	logURL string // TokenURL without user information, query and fragment

	// cur is the memory layer: the token in memory and this instance's
	// plan for it; nil: none.
	cur atomic.Pointer[entry]

	// refreshes runs one refresh at a time, under the key key, for the
	// concurrent callers that have no token to serve meanwhile.
	refreshes flight.Group[*Token]

	mu sync.Mutex // guards the fields below

	// The refresh: how its budget has grown, and whether its failure was
	// logged.
	cutOffs int  // refreshes cut off by their budget in a row since the last new token
	outage  bool // a refresh failed while a token was served: logged once

	// The grant: what holds the next token request back.
	retryAt time.Time // no request before this (Retry-After)
	lastErr error     // the error that set retryAt

	// The store: its failures.
	storeDown    bool      // the store failed: logged once until it works
	storeRetryAt time.Time // do not try the failed store before this
	oversize     bool      // the store refused a token as too large: no lease, no writes

	invalidatedAt time.Time // the last Invalidate that dropped a token
}

// entry is a token in memory and this instance's plan for it.
type entry struct {
	tok        *Token
	obtained   time.Time
	refreshAt  time.Time // when to look past memory again
	validUntil time.Time // when to stop serving tok
}

// New returns a Source, or an error if cfg lacks TokenURL or ClientID, or
// has an EncryptionKey that is not 32 bytes long.
func New(cfg Config) (*Source, error) {
	if cfg.TokenURL == "" {
		return nil, errors.New("token: Config.TokenURL is required")
	}
	if u, err := url.Parse(cfg.TokenURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("token: Config.TokenURL %q is not an absolute URL", redact.String(cfg.TokenURL))
	}
	if cfg.ClientID == "" {
		return nil, errors.New("token: Config.ClientID is required")
	}
	aead, err := newAEAD(cfg.EncryptionKey)
	if err != nil {
		return nil, err
	}
	if cfg.DefaultExpiry <= 0 {
		cfg.DefaultExpiry = DefaultExpiry
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.LeaseWait <= 0 {
		cfg.LeaseWait = DefaultLeaseWait
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.rand == nil {
		cfg.rand = randv2.Float64
	}
	if cfg.Breaker == nil {
		bs := breaker.Settings{Name: "token " + redact.String(cfg.TokenURL), Logger: cfg.Logger}
		breakerclock.Set(&bs, cfg.now)
		cfg.Breaker = breaker.New(bs)
	}
	cfg.Scopes = append([]string(nil), cfg.Scopes...)
	key := cfg.Key
	if key == "" {
		h := sha256.Sum256([]byte(strings.Join([]string{cfg.TokenURL, cfg.ClientID, strings.Join(cfg.Scopes, " "), cfg.Audience, cfg.Resource}, "\n")))
		key = "token/" + hex.EncodeToString(h[:16])
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	return &Source{cfg: cfg, key: key, id: hex.EncodeToString(id[:]), aead: aead, logURL: redact.String(cfg.TokenURL)}, nil
}

// Key returns the token's key in the store.
func (s *Source) Key() string { return s.key }

// Token returns a valid access token. The returned Token is shared: do not
// modify it.
//
// It is served from memory until this instance's moment in the random
// refresh window; then from the store, if another instance has put a newer
// token there; then from the identity provider, by one caller for all the
// concurrent callers of this Source and, with a Store, by one instance for
// all, which holds a lease in the store meanwhile. The other instances go on
// serving the current token; one without a valid token waits for the
// holder's (see [Config.LeaseWait]).
//
// While the current token is valid, the caller gets it whatever the
// refresh does, and the refresh, store writes included, may take at most
// its budget: 3 seconds, 6 after a refresh cut off by its budget, 12 after
// two or more in a row (back to 3 once a new token comes), and never more
// than half the time left before ctx's deadline when it begins. A provider
// or store that hangs does not hold the caller up longer; concurrent
// callers meanwhile are served the valid token at once. The token request
// ends on a bound of its own 100 ms before the budget's end (100 ms and
// StoreTimeout, with a Store), if that leaves it a second or more: so a
// provider that hangs fails requests that the breaker counts, and opens
// it. A refresh cut off so, by its budget, or by ctx, is not logged as a
// failure, and the next one waits 2 seconds; the third cut off in a row
// (by its budget or by that bound) is logged once, at Warn. A caller that
// gets a new token from its own grant waits for the store to take it at
// most half the time left before ctx's deadline.
//
// When the refresh fails and the current token is still valid, Token
// serves it and tries again later (not before a Retry-After, capped by
// [Config.MaxRetryAfter]); without a valid token it returns the error: a
// *RetrieveError for an answer other than 200 (wrapping ErrUnavailable for
// a 429 or 5xx), ErrUnavailable for an unreachable provider or an open
// breaker, ErrMalformed or ErrTokenType for a bad response. A failing Store
// is logged once and bypassed. A refresh cut off by ctx is not a failure of
// the provider, and a concurrent caller whose context is live takes it
// over; so does one when the refresh failed only because ctx's deadline
// was near (its token request ran out of the share of that time the
// Source gives it, or the HTTP client gave up retrying for lack of time).
func (s *Source) Token(ctx context.Context) (*Token, error) {
	if e := s.cur.Load(); e != nil && s.cfg.now().Before(e.refreshAt) {
		return e.tok, nil
	}
	return s.slow(ctx)
}

// maxMargin caps how long before its expiry a token stops being
// served; a short-lived token stops a tenth of its life before.
const maxMargin = 10 * time.Second

// newEntry plans the life of g in memory: its moment in the window, drawn
// now, and how long it may be served.
func (s *Source) newEntry(g *granted) *entry {
	lifetime := g.tok.Expiry.Sub(g.obtained)
	margin := min(maxMargin, max(lifetime/10, 0))
	e := &entry{tok: g.tok, obtained: g.obtained, validUntil: g.tok.Expiry.Add(-margin)}
	e.refreshAt = window.At(g.tok.Expiry, s.cfg.Window.Fit(lifetime), s.cfg.rand())
	if e.refreshAt.After(e.validUntil) {
		e.refreshAt = e.validUntil
	}
	return e
}

// adopt puts g in memory.
func (s *Source) adopt(g *granted) *entry {
	e := s.newEntry(g)
	s.keep(e)
	return e
}

// keep puts e, a new token, in memory: the refreshes cut off before it
// no longer lengthen the next one's budget.
func (s *Source) keep(e *entry) {
	s.cur.Store(e)
	s.mu.Lock()
	s.cutOffs = 0
	s.mu.Unlock()
}

// later serves e again until at, capped at its validity, unless the token
// in memory is no longer r.from, the one the refresh began with: then
// Invalidate has dropped it (a refresh runs one at a time), and e, the
// refused token or one the refresh found no better, is not put back.
func (s *Source) later(r run, e *entry, at time.Time) {
	n := *e
	n.refreshAt = at
	if n.refreshAt.After(n.validUntil) {
		n.refreshAt = n.validUntil
	}
	s.cur.CompareAndSwap(r.from, &n)
}

func (s *Source) logger() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.Default()
}
