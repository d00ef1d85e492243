package token

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"github.com/funcify/funcify/internal/attempt"
	"github.com/funcify/funcify/internal/flight"
	"github.com/funcify/funcify/internal/redact"
	"github.com/funcify/funcify/logging"
	"github.com/funcify/funcify/retry"
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

const (
	// failureBackoff is how long a Source that serves a valid token after a
	// failed refresh waits before it tries again, unless Retry-After says
	// longer.
	failureBackoff = 5 * time.Second
	// cutOffBackoff is how long a Source serving a valid token waits
	// before it tries again after a refresh cut off by its budget or by
	// the caller's context: not an outage, but a provider that hangs would
	// otherwise take the budget of every call.
	cutOffBackoff = 2 * time.Second
	// slowAfter is how many refreshes cut off by their budget in a row
	// make the Source log, once, that the provider or the store is slow.
	slowAfter = 3
	// grantTimeout bounds each token request, and so does three quarters
	// of the time left before the caller's deadline, if less (never under
	// a second, package internal/attempt), the lease's duration for its
	// holder, and a refresh's budget (see budgets). It is the Source's own
	// bound, within the breaker, so that a provider that hangs fails the
	// request while the caller still has time, and the breaker counts it.
	grantTimeout = 10 * time.Second
	// leaseSkew is how much further than LeaseDuration from now a stored
	// lease may end and still be honoured: a lease ending later comes from
	// a skewed clock or a bad writer, and is ignored.
	leaseSkew = 5 * time.Second
	// leasePoll is how long a Source serving its token while another
	// instance holds the lease waits before it looks at the store again.
	leasePoll = time.Second
	// storeRetry is how long a Source goes on without a failed store
	// before it tries it again.
	storeRetry = 10 * time.Second
	// maxMargin caps how long before its expiry a token stops being
	// served; a short-lived token stops a tenth of its life before.
	maxMargin = 10 * time.Second
	// invalidateMinAge is the age under which Invalidate keeps a token: a
	// downstream that refuses a token just granted (a wrong audience, say)
	// would refuse the next one the same, and a new grant for each of its
	// 401s would cost every instance sharing the token a grant too.
	invalidateMinAge = time.Minute
	// invalidateInterval is how long after an invalidation a Source
	// invalidates no other token: at most one grant per interval per
	// instance comes from 401s.
	invalidateInterval = time.Minute
)

// budgets bound a refresh while the current token is still valid (and so
// does half the time left before the caller's deadline, if less): the
// caller is served that token whatever happens, so a provider or store
// that hangs must not take its time. The first refresh gets the first
// budget; each refresh cut off by its budget gives the next one the next
// budget, up to the last; a new token starts again from the first. So a
// provider that answers in 4 s, slow but within grantTimeout, is not cut
// off for ever while the token is valid. The token request is bounded
// inside the budget (see Source.attempt): it ends on its own timeout, which
// the breaker counts, a little before the budget's end, less StoreTimeout
// with a Store (the writes that follow), so that a provider that hangs
// opens the breaker even while a valid token is served; when that would
// leave the request less than internal/attempt.Floor (a budget under about
// 1.1 s, 2.1 s with a Store by default: a caller with less than about 2.2
// or 4.2 s left), the budget alone cuts it off, which the breaker does not
// count, as it does not count a request that its caller's own near
// deadline ends.
var budgets = [...]time.Duration{3 * time.Second, 6 * time.Second, 12 * time.Second}

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
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1) for the random window, drawn once
	// per token. It must be safe for concurrent use. Default
	// math/rand/v2.Float64.
	Rand func() float64
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
type Source struct {
	cfg    Config
	key    string
	id     string // this Source's lease holder id
	aead   cipher.AEAD
	logURL string // TokenURL without user information, query and fragment

	cur atomic.Pointer[entry] // the token in memory; nil: none

	// refreshes runs one refresh at a time, under the key key, for the
	// concurrent callers that have no token to serve meanwhile.
	refreshes flight.Group[*Token]

	mu            sync.Mutex // guards the fields below
	retryAt       time.Time  // no request before this (Retry-After)
	lastErr       error      // the error that set retryAt
	storeDown     bool       // the store failed: logged once until it works
	storeRetryAt  time.Time  // do not try the failed store before this
	outage        bool       // a refresh failed while a token was served: logged once
	cutOffs       int        // refreshes cut off by their budget in a row since the last new token
	invalidatedAt time.Time  // the last Invalidate that dropped a token
	oversize      bool       // the store refused a token as too large: no lease, no writes
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = randv2.Float64
	}
	if cfg.Breaker == nil {
		cfg.Breaker = breaker.New(breaker.Settings{Name: "token " + redact.String(cfg.TokenURL), Logger: cfg.Logger, Now: cfg.Now})
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
	if e := s.cur.Load(); e != nil && s.cfg.Now().Before(e.refreshAt) {
		return e.tok, nil
	}
	return s.slow(ctx)
}

// slow refreshes the token, or serves the current one while another caller
// refreshes it, or waits for that caller's refresh. The refresh is shared
// under the rule of package internal/flight: a caller whose context ends
// stops waiting at once, and when the refreshing caller's context ends, or
// its refresh failed for lack of time before its deadline, a waiting caller
// whose context is live refreshes in its place.
func (s *Source) slow(ctx context.Context) (*Token, error) {
	e := s.cur.Load()
	now := s.cfg.Now()
	if e != nil && now.Before(e.refreshAt) {
		return e.tok, nil
	}
	if e != nil && now.Before(e.validUntil) && s.refreshes.Running(s.key) {
		return e.tok, nil // a refresh is under way; this one still serves
	}
	tok, err, _ := s.refreshes.Do(ctx, s.key, func(ctx context.Context) (*Token, error) {
		// A refresh that ended since the checks above may have left a
		// token that is not due.
		e := s.cur.Load()
		now := s.cfg.Now()
		if e != nil && now.Before(e.refreshAt) {
			return e.tok, nil
		}
		if e != nil && now.Before(e.validUntil) {
			// The caller is served e whatever happens: the refresh may
			// take only part of its time. The budget cancels bctx
			// rather than give it a deadline, so that a request it
			// cuts off is the caller's doing, which the breaker does
			// not count; a token request gets a bound of its own
			// inside the budget when there is room (see attempt), so
			// that a hang is counted.
			b := s.budget(ctx)
			bctx, cancel := context.WithCancelCause(ctx)
			t := time.AfterFunc(b, func() { cancel(errBudget) })
			defer func() {
				t.Stop()
				cancel(nil)
			}()
			return s.refresh(bctx, run{from: e, end: time.Now().Add(b)})
		}
		tok, err := s.refresh(ctx, run{from: e})
		if err != nil && ctx.Err() == nil && leadersOwn(err) {
			err = flight.LeadersOwn(err)
		}
		return tok, err
	})
	switch {
	case err == nil:
		return tok, nil
	case attempt.EndedByCaller(ctx, err):
		return nil, fmt.Errorf("token: wait for the token: %w", err)
	case errors.Is(err, flight.ErrPanicked):
		return nil, fmt.Errorf("token: refresh: %w", err)
	}
	return nil, err
}

// errBudget is the cause of a refresh cut off by its budget.
var errBudget = errors.New("token: the refresh took longer than its budget while a valid token is served")

// budget returns how long a refresh made now while a valid token is
// served may take: the budget the refreshes cut off in a row have come
// to, and at most half the time left before ctx's deadline.
func (s *Source) budget(ctx context.Context) time.Duration {
	s.mu.Lock()
	d := budgets[min(s.cutOffs, len(budgets)-1)]
	s.mu.Unlock()
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(deadline)/2)
	}
	return d
}

// run is what a refresh knows of how it began.
type run struct {
	from *entry    // the token in memory when it began; nil: none
	end  time.Time // the end of its budget; zero: no budget
}

// budgetSlack is how long before what is left of its budget for it a
// token request bounded by the budget ends, so that its own timeout comes
// first whatever the order in which the two timers fire.
const budgetSlack = 100 * time.Millisecond

// requestEnd returns when a token request of r must end on its own bound:
// margin (the store writes that follow the grant) and budgetSlack before
// the end of r's budget; zero if r has none.
func (r run) requestEnd(margin time.Duration) time.Time {
	if r.end.IsZero() {
		return time.Time{}
	}
	return r.end.Add(-margin - budgetSlack)
}

// leadersOwn reports whether err, the failure of a refresh whose ctx is
// live, came from that ctx's near deadline rather than from the provider:
// the token request ran out of the share of the time left that attempt
// gave it, or the HTTP client's retries stopped because the next would not
// fit (retry.ErrDeadline, as httpclient.Transport returns). A caller with
// more time may succeed.
func leadersOwn(err error) bool {
	var short *shortAttempt
	return errors.As(err, &short) || errors.Is(err, retry.ErrDeadline)
}

// refresh gets a token newer than r.from: from the store, or from the
// provider.
func (s *Source) refresh(ctx context.Context, r run) (*Token, error) {
	if s.cfg.Store != nil && s.storeUsable() {
		if tok, err, done := s.shared(ctx, r); done {
			return tok, err
		}
	}
	if err := s.heldBack(ctx, s.cfg.Now()); err != nil {
		return s.failed(ctx, r, r.from, err)
	}
	g, err := s.fetch(ctx, 0, r.requestEnd(0))
	if err != nil {
		return s.failed(ctx, r, r.from, err)
	}
	return s.adopt(g).tok, nil
}

// newEntry plans the life of g in memory: its moment in the window, drawn
// now, and how long it may be served.
func (s *Source) newEntry(g *granted) *entry {
	lifetime := g.tok.Expiry.Sub(g.obtained)
	margin := min(maxMargin, max(lifetime/10, 0))
	e := &entry{tok: g.tok, obtained: g.obtained, validUntil: g.tok.Expiry.Add(-margin)}
	e.refreshAt = window.At(g.tok.Expiry, s.cfg.Window.Fit(lifetime), s.cfg.Rand())
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

// errHeld says that the Source sends no token request: a Retry-After has
// not passed, or the breaker is open.
type errHeld struct {
	err   error
	until time.Time // when a request may be sent again, if known
}

func (e *errHeld) Error() string { return e.err.Error() }
func (e *errHeld) Unwrap() error { return e.err }

// heldBack returns an *errHeld when no token request may be sent at now: a
// Retry-After has not passed (its error), or the breaker is open
// (ErrUnavailable and breaker.ErrOpen); nil otherwise.
func (s *Source) heldBack(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	err, until := s.lastErr, s.retryAt
	s.mu.Unlock()
	if err != nil && now.Before(until) {
		return &errHeld{err: err, until: until}
	}
	if s.cfg.Breaker.State(ctx) == breaker.Open {
		return &errHeld{err: fmt.Errorf("%w: %w", ErrUnavailable, breaker.ErrOpen)}
	}
	return nil
}

// fetch asks the provider for a token through the breaker, each request
// bounded as grantTimeout says, by limit if positive, and by end if set
// (see attempt).
func (s *Source) fetch(ctx context.Context, limit time.Duration, end time.Time) (*granted, error) {
	now := s.cfg.Now()
	g, err := breaker.Execute(ctx, s.cfg.Breaker, func(ctx context.Context) (*granted, error) {
		return s.attempt(ctx, limit, end)
	})
	if err != nil {
		if errors.Is(err, breaker.ErrOpen) || errors.Is(err, breaker.ErrTrialLimit) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if d := s.retryAfter(err); d > 0 {
			s.mu.Lock()
			s.retryAt, s.lastErr = now.Add(d), err
			s.mu.Unlock()
		}
		return nil, err
	}
	s.logger().DebugContext(ctx, "token: granted", "token_url", s.logURL, "client_id", s.cfg.ClientID, "token", g.tok)
	s.mu.Lock()
	s.lastErr, s.retryAt = nil, time.Time{}
	recovered := s.outage
	s.outage = false
	s.mu.Unlock()
	if recovered {
		s.logger().InfoContext(ctx, "token: the identity provider answers again", "token_url", s.logURL)
	}
	return g, nil
}

// shortAttempt is the failure of a token request that ran out of the share
// of the caller's time left that attempt gave it, while the caller's
// context was live: a timeout, which the breaker counts, and a failure of
// the caller's near deadline, which a concurrent caller with more time does
// not inherit.
type shortAttempt struct{ err error }

func (e *shortAttempt) Error() string { return e.err.Error() }
func (e *shortAttempt) Unwrap() error { return e.err }

// budgetAttempt is the failure of a token request that ran out of the
// bound its refresh's budget gave it (see attempt): a timeout of the
// Source's own, which the breaker counts, and a refresh cut off by its
// budget, which lengthens the next one's.
type budgetAttempt struct{ err error }

func (e *budgetAttempt) Error() string { return e.err.Error() }
func (e *budgetAttempt) Unwrap() error { return e.err }

// attempt sends one token request, bounded by grantTimeout, by limit if
// positive, and by three quarters of the time left before ctx's deadline
// (never under a second; with a second or less left, by the caller's
// deadline alone), the rule httpclient and jwtauth follow too. The bound
// is the Source's, inside the breaker: a provider that hangs fails the
// request with context.DeadlineExceeded, which the breaker counts, while
// the caller's ctx is still live. A refresh with a budget gives end, a
// little before the budget's end (see run.requestEnd): the request is
// bounded by it too when that leaves it attempt.Floor or more, so that a
// hang ends on this bound, which the breaker counts, before the budget
// cuts it off, which the breaker does not count. With less, the budget
// alone cuts the request off.
func (s *Source) attempt(ctx context.Context, limit time.Duration, end time.Time) (*granted, error) {
	now := time.Now()
	d := attempt.Bound(ctx, now, grantTimeout)
	short := d > 0 && d < grantTimeout // the bound comes from ctx's deadline
	if limit > 0 && (d == 0 || limit < d) {
		d, short = limit, false
	}
	inBudget := false
	if b := end.Sub(now); !end.IsZero() && b >= attempt.Floor && (d == 0 || b < d) {
		d, short, inBudget = b, false, true
	}
	actx := ctx
	if d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	g, err := s.grant(actx)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		switch {
		case short:
			return nil, &shortAttempt{err}
		case inBudget:
			return nil, &budgetAttempt{err}
		}
	}
	return g, err
}

// retryAfter returns the Retry-After of err, a *RetrieveError, capped at
// MaxRetryAfter; 0 if it has none.
func (s *Source) retryAfter(err error) time.Duration {
	var re *RetrieveError
	if !errors.As(err, &re) || re.RetryAfter <= 0 {
		return 0
	}
	return min(re.RetryAfter, s.cfg.MaxRetryAfter)
}

// failed handles a failed refresh r: e is served if still valid, else
// err is returned. A refresh cut off by ctx (the caller's, or the budget)
// is not the provider's failure: it is not logged as one, and e, if valid,
// is served again for cutOffBackoff before the next try; a cut-off by the
// budget lengthens the next budget, and the slowAfter-th in a row is
// logged once. So is a token request that ran out of its bound within the
// budget (a *budgetAttempt), which the breaker has counted. Otherwise a valid e is served until the next try, after
// failureBackoff, the Retry-After, or the end of what held the Source
// back, and the outage is logged once.
func (s *Source) failed(ctx context.Context, r run, e *entry, err error) (*Token, error) {
	now := s.cfg.Now()
	valid := e != nil && now.Before(e.validUntil)
	if attempt.EndedByCaller(ctx, err) {
		if errors.Is(context.Cause(ctx), errBudget) {
			s.cutOff(ctx, e)
		}
		if valid {
			s.later(r, e, now.Add(cutOffBackoff))
			return e.tok, nil
		}
		return nil, fmt.Errorf("token: %w", context.Cause(ctx))
	}
	if _, ok := errors.AsType[*budgetAttempt](err); ok && valid {
		// The breaker has counted it; for the Source it is a refresh
		// cut off by its budget, as above.
		s.cutOff(ctx, e)
		s.later(r, e, now.Add(cutOffBackoff))
		return e.tok, nil
	}
	if !valid {
		return nil, err
	}
	next := now.Add(failureBackoff)
	if held, ok := err.(*errHeld); ok && !held.until.IsZero() {
		next = held.until
	} else if d := s.retryAfter(err); d > 0 {
		next = now.Add(d)
	}
	s.later(r, e, next)
	s.mu.Lock()
	first := !s.outage
	s.outage = true
	s.mu.Unlock()
	if first {
		level := slog.LevelWarn
		if re, ok := errors.AsType[*RetrieveError](err); ok && !unavailableStatus(re.StatusCode) {
			level = slog.LevelError
		}
		s.logger().Log(ctx, level, "token: refresh failed; serving the cached token while it is valid",
			"token_url", s.logURL, "error", redact.Text(err), "expiry", e.tok.Expiry)
	}
	return e.tok, nil
}

// cutOff counts a refresh cut off by its budget while e was served, and
// logs the slowAfter-th in a row, once: refreshes that keep running out of
// their budget are thrown away, and the token is then refreshed only once
// it is no longer valid, with every caller waiting.
func (s *Source) cutOff(ctx context.Context, e *entry) {
	s.mu.Lock()
	s.cutOffs++
	n := s.cutOffs
	s.mu.Unlock()
	if n == slowAfter && e != nil {
		s.logger().WarnContext(ctx, "token: refreshes keep running out of their time budget; the identity provider or the store is slow, and the token may be refreshed only once it is no longer valid, with callers waiting",
			"token_url", s.logURL, "cut_offs", n, "budget", budgets[len(budgets)-1], "expiry", e.tok.Expiry)
	}
}

func (s *Source) logger() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.Default()
}

// storeUsable reports whether the store may be tried: it has not failed
// within storeRetry.
func (s *Source) storeUsable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.storeDown || !s.cfg.Now().Before(s.storeRetryAt)
}

// storeFailed records and logs, once until it works again, a failure of
// the store that is not the end of the caller's ctx.
func (s *Source) storeFailed(ctx context.Context, op string, err error) {
	s.mu.Lock()
	first := !s.storeDown
	s.storeDown = true
	s.storeRetryAt = s.cfg.Now().Add(storeRetry)
	s.mu.Unlock()
	if first {
		s.logger().WarnContext(ctx, "token: the store failed; going on with memory and the token endpoint", "key", s.key, "op", op, "error", redact.Text(err))
	}
}

func (s *Source) storeWorks(ctx context.Context) {
	s.mu.Lock()
	was := s.storeDown
	s.storeDown = false
	s.mu.Unlock()
	if was {
		s.logger().InfoContext(ctx, "token: the store works again", "key", s.key)
	}
}

// tooLarge reports whether err says that a value can never fit the store:
// an error in its chain has a method TooLarge() bool that returns true, as
// ssmstore.ErrTooLarge has. Retrying would fail the same.
func tooLarge(err error) bool {
	var e interface{ TooLarge() bool }
	return errors.As(err, &e) && e.TooLarge()
}

// oversized records that the store refused a write as too large: a
// configuration error (the token does not fit the store), logged once at
// Error. The store is not taken for down: it is still read, but this
// Source takes no lease and writes no token, which could not be shared.
func (s *Source) oversized(ctx context.Context, op string, err error) {
	s.mu.Lock()
	first := !s.oversize
	s.oversize = true
	s.mu.Unlock()
	if first {
		s.logger().ErrorContext(ctx, "token: the token does not fit the store; each instance grants its own: use a store or tier that holds it, or no EncryptionKey",
			"key", s.key, "op", op, "error", redact.Text(err))
	}
}

// fits reports whether the store has not refused a token as too large.
func (s *Source) fits() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.oversize
}

// read reads the Source's record from the store.
func (s *Source) read(ctx context.Context) (store.Item, *record, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	defer cancel()
	it, err := s.cfg.Store.Get(ctx, s.key)
	if err != nil {
		return it, nil, err
	}
	rec, err := decodeRecord(it.Value)
	if err != nil {
		s.logger().WarnContext(ctx, "token: ignoring the stored record", "key", s.key, "error", err.Error())
	}
	return it, rec, nil
}

// write writes rec over version, to live ttl.
func (s *Source) write(ctx context.Context, version int64, rec *record, ttl time.Duration) (int64, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	defer cancel()
	return s.cfg.Store.CompareAndSet(ctx, s.key, version, b, max(ttl, s.cfg.LeaseDuration))
}

// Waits between lease writes that conflict: the first, doubled after each
// conflict up to the last, each drawn at random from its second half.
const (
	conflictWait    = 20 * time.Millisecond
	conflictWaitMax = 500 * time.Millisecond
)

// shared refreshes through the store: it serves a newer stored token, or
// takes the lease and grants, or serves the current token while another
// instance holds the lease, or waits for it. It reports false when the
// caller should grant on its own: the store failed, its lease writes kept
// conflicting until the lease wait's end (or half the caller's time), or it
// cannot hold the token.
func (s *Source) shared(ctx context.Context, r run) (tok *Token, err error, done bool) {
	waitUntil := time.Now().Add(s.cfg.LeaseWait)
	// Lease writes that keep conflicting (or meet a throttle) are tried
	// again until the lease wait's end, or until half the caller's time
	// is gone if sooner: then the caller grants on its own, with time
	// left to do it.
	conflictUntil := waitUntil
	if dl, ok := ctx.Deadline(); ok {
		if half := time.Now().Add(time.Until(dl) / 2); half.Before(conflictUntil) {
			conflictUntil = half
		}
	}
	poll, backoff := 20*time.Millisecond, conflictWait
	for {
		it, rec, err := s.read(ctx)
		if err != nil {
			if attempt.EndedByCaller(ctx, err) {
				return s.failedCtx(ctx, r, r.from)
			}
			s.storeFailed(ctx, "get", err)
			return nil, nil, false
		}
		s.storeWorks(ctx)
		now := s.cfg.Now()
		cur := r.from
		if cur != nil && !now.Before(cur.validUntil) {
			cur = nil
		}
		g, terr := s.token(rec)
		switch {
		case terr == nil && (cur == nil || g.tok.AccessToken != cur.tok.AccessToken):
			// A token this instance has not seen: plan its own moment.
			ne := s.newEntry(g)
			if now.Before(ne.refreshAt) {
				s.keep(ne)
				return ne.tok, nil, true
			}
			if now.Before(ne.validUntil) {
				cur = ne
			}
		case terr != nil && !errors.Is(terr, errNoToken):
			s.logger().WarnContext(ctx, "token: ignoring the stored token", "key", s.key, "error", terr.Error())
		}
		if rec.leasedBy(s.id, now, s.cfg.LeaseDuration+leaseSkew) {
			if cur != nil {
				s.later(r, cur, now.Add(leasePoll))
				return cur.tok, nil, true
			}
			if !sleep(ctx, poll, waitUntil) {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("token: wait for another instance's token: %w", context.Cause(ctx)), true
				}
				return nil, fmt.Errorf("%w: another instance holds the refresh lease and no token came within %v", ErrUnavailable, s.cfg.LeaseWait), true
			}
			poll = min(2*poll, 200*time.Millisecond)
			continue
		}
		// Taking the lease is two writes (take, then the token or a
		// release): none when no request may be sent, or when the
		// token cannot be stored.
		if err := s.heldBack(ctx, now); err != nil {
			tok, err := s.failed(ctx, r, cur, err)
			return tok, err, true
		}
		if !s.fits() {
			return nil, nil, false
		}
		lease := *rec
		lease.Holder, lease.Lease = s.id, now.Add(s.cfg.LeaseDuration).UnixNano()
		ttl := time.Duration(0)
		if terr == nil {
			ttl = g.tok.Expiry.Sub(now)
		}
		ver, err := s.write(ctx, it.Version, &lease, ttl)
		if tooLarge(err) && (len(lease.Token) > 0 || len(lease.Sealed) > 0) {
			// The stored token fits, but not with the lease beside
			// it: take the lease without it. The instances that read
			// the store meanwhile serve their own token or wait for
			// this one's, as during a cold start; a release puts
			// the stored token back.
			lease.Token, lease.Sealed = nil, nil
			ver, err = s.write(ctx, it.Version, &lease, ttl)
		}
		switch {
		case err == nil:
			tok, err := s.grantLeased(ctx, r, ver, &lease, rec, cur, ttl)
			return tok, err, true
		case errors.Is(err, store.ErrConflict), throttled(err):
			// Another instance wrote first, or is writing (a store
			// refused the write while another of the key was under
			// way, and has already waited on its own): look again,
			// after a jittered wait, until the lease wait's end;
			// then grant without the store rather than keep writing
			// into it.
			if throttled(err) {
				backoff = conflictWaitMax
			}
			if !sleep(ctx, backoff/2+randv2.N(backoff/2), conflictUntil) {
				if ctx.Err() != nil {
					return s.failedCtx(ctx, r, cur)
				}
				return nil, nil, false
			}
			backoff = min(2*backoff, conflictWaitMax)
			continue
		case tooLarge(err):
			s.oversized(ctx, "lease", err)
			return nil, nil, false
		}
		// The write's outcome is unknown (its answer was lost, or came
		// after StoreTimeout or the end of ctx): it may have taken the
		// lease. If it did, use the lease, or give it back, so that no
		// instance waits for a lease nobody uses; while a valid token
		// is served, only within the refresh's budget.
		dctx, cancel := s.detach(ctx, r.end, false)
		if v, ok := s.holds(dctx, &lease); ok {
			if ctx.Err() == nil {
				cancel()
				tok, err := s.grantLeased(ctx, r, v, &lease, rec, cur, ttl)
				return tok, err, true
			}
			s.release(ctx, dctx, v, rec, ttl)
		}
		cancel()
		if ctx.Err() != nil {
			return s.failedCtx(ctx, r, cur)
		}
		s.storeFailed(ctx, "lease", err)
		return nil, nil, false
	}
}

// throttled reports whether err says that the store refused a write for
// the rate of writes to the key (another write of it under way, most
// likely another instance's lease): an error in its chain has a method
// Throttled() bool that returns true, as ssmstore.ErrThrottled has. The
// write did not take effect, and the store is not down.
func throttled(err error) bool {
	var e interface{ Throttled() bool }
	return errors.As(err, &e) && e.Throttled()
}

// timedOut reports whether err is a timeout: the end of a context's
// deadline, or an error with a method Timeout() bool that returns true.
func timedOut(err error) bool {
	var e interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &e) && e.Timeout()
}

// detach returns the context of store calls that must outlive ctx's
// cancellation: a lease's use or release, the write of a new token. It
// ends at end, the end of the refresh's budget, if set; with caller set,
// also halfway from now to ctx's deadline, so that a caller that has its
// token keeps at least half its time for its own work. Each call within
// is bounded by StoreTimeout too.
func (s *Source) detach(ctx context.Context, end time.Time, caller bool) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && caller {
		now := time.Now()
		if half := now.Add(d.Sub(now) / 2); end.IsZero() || half.Before(end) {
			end = half
		}
	}
	dctx := context.WithoutCancel(ctx)
	if end.IsZero() {
		return context.WithCancel(dctx)
	}
	return context.WithDeadline(dctx, end)
}

// holds reads the store with dctx and returns the item's version if it
// holds lease, the lease this Source wrote.
func (s *Source) holds(dctx context.Context, lease *record) (int64, bool) {
	if dctx.Err() != nil {
		return 0, false
	}
	it, rec, err := s.read(dctx)
	if err != nil || rec.Holder != lease.Holder || rec.Lease != lease.Lease {
		return 0, false
	}
	return it.Version, true
}

// failedCtx handles a store call cut off by the end of ctx.
func (s *Source) failedCtx(ctx context.Context, r run, e *entry) (*Token, error, bool) {
	tok, err := s.failed(ctx, r, e, fmt.Errorf("token: %w", context.Cause(ctx)))
	return tok, err, true
}

// grantLeased asks the provider for a token while holding lease, written
// at version ver over rec, and stores the token. It releases the lease when
// the grant or the write of the token fails, so that the next instance
// need not wait for the lease to end.
func (s *Source) grantLeased(ctx context.Context, r run, ver int64, lease, rec *record, cur *entry, ttl time.Duration) (*Token, error) {
	g, err := s.fetch(ctx, s.cfg.LeaseDuration, r.requestEnd(s.cfg.StoreTimeout))
	if err != nil {
		// The lease is worth releasing even if the caller's context
		// or the refresh's budget has just ended.
		s.giveBack(ctx, ver, nil, rec, ttl)
		return s.failed(ctx, r, cur, err)
	}
	var next record
	if err := s.setToken(&next, g); err != nil {
		s.giveBack(ctx, ver, nil, rec, ttl)
		return nil, fmt.Errorf("token: seal the token: %w", err)
	}
	// The caller has its token: storing it for the other instances
	// may take what is left of the budget and of half the caller's
	// time, not more.
	dctx, cancel := s.detach(ctx, r.end, true)
	s.put(ctx, dctx, ver, lease, rec, &next, g.tok.Expiry.Sub(s.cfg.Now()), ttl)
	cancel()
	return s.adopt(g).tok, nil
}

// putTries is how many times the holder of the lease writes its token when
// the write conflicts although the lease is still its own.
const putTries = 3

// put writes next, the new token, over version ver, which holds lease,
// with dctx (see detach). A conflict is checked: while the store still
// holds lease (a write that changed nothing may have taken a version, as
// ssmstore's void writes do), the token is written over the version found;
// so it is after a throttle (the write did not take effect), after a
// jittered wait. If the token is not stored, the lease is given back (see
// giveBack), so that no instance waits for a lease nobody uses; after a
// write whose outcome is unknown (it timed out, or dctx ended during it),
// only if the store, read back, still holds it. Lines are logged with ctx.
func (s *Source) put(ctx, dctx context.Context, ver int64, lease, rec, next *record, ttl, leaseTTL time.Duration) {
	if dctx.Err() != nil {
		s.logger().DebugContext(ctx, "token: no time left to store the token; it is kept in memory", "key", s.key)
		s.giveBack(ctx, ver, nil, rec, leaseTTL)
		return
	}
	_, err := s.write(dctx, ver, next, ttl)
	for try := 1; errors.Is(err, store.ErrConflict) || throttled(err); try++ {
		// A throttled write did not take effect: another write of the
		// key is under way (most likely another instance's void lease
		// write). Back off before looking again, as after a conflict.
		if throttled(err) && !pause(dctx, conflictWaitMax/2+randv2.N(conflictWaitMax/2)) {
			break
		}
		v, ok := s.holds(dctx, lease)
		if !ok {
			s.logger().DebugContext(ctx, "token: the lease was lost; the token is kept in memory only", "key", s.key)
			return
		}
		ver = v
		if try == putTries {
			break
		}
		_, err = s.write(dctx, ver, next, ttl)
	}
	switch {
	case err == nil:
		return
	case tooLarge(err):
		s.oversized(ctx, "put", err)
	case throttled(err):
		s.logger().DebugContext(ctx, "token: the store kept throttling the token's write; the token is kept in memory", "key", s.key)
	case dctx.Err() != nil || timedOut(err):
		// The write may have taken effect: give the lease back only if
		// the store still holds it. The end of dctx is the caller's
		// lack of time, not the store's failure.
		if dctx.Err() != nil {
			s.logger().DebugContext(ctx, "token: no time left to store the token; it is kept in memory", "key", s.key)
		} else {
			s.storeFailed(ctx, "put", err)
		}
		s.giveBack(ctx, 0, lease, rec, leaseTTL)
		return
	case !errors.Is(err, store.ErrConflict):
		s.storeFailed(ctx, "put", err)
	}
	s.giveBack(ctx, ver, nil, rec, leaseTTL)
}

// giveBack releases the lease after the token's write failed or could not
// be made, with a context of its own (see releaseContext) rather than what
// is left of the refresh's budget or of the put's share of the caller's
// time, so that a write that timed out once does not make every cold
// instance wait out the lease. With lease set, the outcome of the write is
// unknown: the store is read back first, and the lease given back at the
// version found if the store still holds it; else it is given back at ver.
func (s *Source) giveBack(ctx context.Context, ver int64, lease, rec *record, ttl time.Duration) {
	rctx, cancel := s.releaseContext(ctx)
	defer cancel()
	if lease != nil {
		v, ok := s.holds(rctx, lease)
		if !ok {
			return
		}
		ver = v
	}
	s.release(ctx, rctx, ver, rec, ttl)
}

// releaseContext returns the context of the store calls that give a lease
// back after a failed grant or token write: ctx's values without its
// cancellation, for StoreTimeout, or until halfway from now to ctx's
// deadline if sooner, so that the caller keeps time for its own work and
// is never held past its deadline. With no time left (ctx's deadline has
// passed), the context has ended, nothing is written, and the lease ends
// by itself after LeaseDuration.
func (s *Source) releaseContext(ctx context.Context) (context.Context, context.CancelFunc) {
	now := time.Now()
	end := now.Add(s.cfg.StoreTimeout)
	if dl, ok := ctx.Deadline(); ok {
		if half := now.Add(dl.Sub(now) / 2); half.Before(end) {
			end = half
		}
	}
	return context.WithDeadline(context.WithoutCancel(ctx), end)
}

// release gives back the lease written at version ver over rec, by
// compare-and-set with dctx (see detach): rec as it was, without the
// lease. A conflict means that the lease is no longer this Source's to
// give back (or that a write reported as failed took effect): nothing to
// do; nor after a throttle, which is no store outage: the lease then ends
// by itself. Nothing is written once dctx has ended, and its end is not the
// store's failure.
func (s *Source) release(ctx, dctx context.Context, ver int64, rec *record, ttl time.Duration) {
	if dctx.Err() != nil {
		return
	}
	rel := *rec
	rel.Holder, rel.Lease = "", 0
	if _, err := s.write(dctx, ver, &rel, ttl); err != nil && !errors.Is(err, store.ErrConflict) && !throttled(err) && dctx.Err() == nil {
		s.storeFailed(ctx, "release", err)
	}
}

// pause waits d, or until the end of ctx, and reports whether it waited d
// whole; it does not wait at all when ctx's deadline is less than d away.
func pause(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// sleep waits d, or until the real time until, or the end of ctx, and
// reports whether it waited d whole.
func sleep(ctx context.Context, d time.Duration, until time.Time) bool {
	if left := time.Until(until); left < d {
		if left <= 0 {
			return false
		}
		d = left
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return time.Now().Before(until)
	case <-ctx.Done():
		return false
	}
}

// Invalidate drops tok, which a downstream refused with a 401, so that the
// next call to Token gets another: from memory, and from the store if it
// still holds tok there (by compare-and-set, so that a newer token put by
// another instance is kept). It returns the store's error, if any, after
// dropping the token from memory.
//
// A token younger than a minute is kept, and so is any token within a
// minute after this Source last dropped one: a downstream that refuses a
// token just granted (a wrong audience, a revoked client) would refuse the
// next one too, and a grant per refused call, with the shared token
// deleted each time, would cost every instance a grant and could push the
// provider into rate limiting. So 401s cost at most one grant per minute
// per instance. A call that drops nothing (tok is no longer in memory nor
// in the store) does not count. Compare the next Token with tok to see
// whether it was dropped.
func (s *Source) Invalidate(ctx context.Context, tok *Token) error {
	if tok == nil {
		return nil
	}
	now := s.cfg.Now()
	s.mu.Lock()
	prev := s.invalidatedAt
	if e := s.cur.Load(); now.Before(prev.Add(invalidateInterval)) ||
		e != nil && e.tok.AccessToken == tok.AccessToken && now.Sub(e.obtained) < invalidateMinAge {
		s.mu.Unlock()
		return nil
	}
	// Hold the interval while dropping, so that a concurrent call drops
	// nothing; give it back if nothing was dropped.
	s.invalidatedAt = now
	s.mu.Unlock()
	dropped := false
	defer func() {
		if !dropped {
			s.mu.Lock()
			if s.invalidatedAt.Equal(now) {
				s.invalidatedAt = prev
			}
			s.mu.Unlock()
		}
	}()
	for {
		e := s.cur.Load()
		if e == nil || e.tok.AccessToken != tok.AccessToken {
			break
		}
		if s.cur.CompareAndSwap(e, nil) {
			dropped = true
			break
		}
	}
	if s.cfg.Store == nil {
		return nil
	}
	it, rec, err := s.read(ctx)
	if err != nil {
		if !attempt.EndedByCaller(ctx, err) {
			s.storeFailed(ctx, "get", err)
		}
		return fmt.Errorf("token: invalidate: %w", err)
	}
	g, err := s.token(rec)
	if err != nil || g.tok.AccessToken != tok.AccessToken || now.Sub(g.obtained) < invalidateMinAge {
		return nil
	}
	if rec.Holder == "" {
		dctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
		err = s.cfg.Store.Delete(dctx, s.key, it.Version)
		cancel()
	} else {
		_, err = s.write(ctx, it.Version, &record{Holder: rec.Holder, Lease: rec.Lease}, 0)
	}
	switch {
	case err == nil:
		dropped = true
	case !errors.Is(err, store.ErrConflict):
		if !attempt.EndedByCaller(ctx, err) {
			s.storeFailed(ctx, "invalidate", err)
		}
		return fmt.Errorf("token: invalidate: %w", err)
	}
	return nil
}
