package testenv

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OIDCInstall is the command, run from the root of the funcify module, that
// installs oidc-provider at the version pinned in
// internal/testenv/oidc/package-lock.json. scripts/test runs it when
// oidc-provider is missing.
const OIDCInstall = "npm ci --prefix internal/testenv/oidc"

// oidcDir holds the pinned oidc-provider and server.mjs, which configures and
// runs it, relative to the module root.
const oidcDir = "internal/testenv/oidc"

// oidcAttempts is how many times StartOIDC tries a fresh port when the one it
// picked was taken before the provider could bind it.
const oidcAttempts = 3

// Defaults of [StartOIDC].
const (
	// DefaultOIDCAudience is the resource server that tokens are for: their
	// aud claim.
	DefaultOIDCAudience = "https://orders.example"
	// DefaultOIDCClientID is the id of the client that [OIDCServer.Token]
	// authenticates as.
	DefaultOIDCClientID = "funcify-test"
	// DefaultOIDCTokenTTL is how long an access token lasts.
	DefaultOIDCTokenTTL = 10 * time.Minute
)

// DefaultOIDCScopes are the scopes that the audience accepts unless
// [WithOIDCScopes] says otherwise: the activities of examples/orders.
var DefaultOIDCScopes = []string{"orders:order:read", "orders:order:write"}

// OIDCServer is a running oidc-provider, a certified OpenID provider on
// Node.js, that issues RS256 JWT access tokens through the OAuth 2.0
// client-credentials grant. It keeps everything in memory, its signing key
// included, and forgets it all when it stops.
type OIDCServer struct {
	// Issuer is the provider's issuer, exactly http://127.0.0.1:PORT
	// without a trailing slash: the iss claim of its tokens.
	Issuer string
	// DiscoveryURL is Issuer + "/.well-known/openid-configuration".
	DiscoveryURL string
	// TokenURL and JWKSURL are the token_endpoint and jwks_uri of the
	// discovery document.
	TokenURL string
	JWKSURL  string
	// Audience is the resource server's identifier and the aud claim of
	// every token, requested with resource= or not.
	Audience string
	// Scopes are the scopes the audience accepts. A token's scope claim
	// holds the requested ones among them, space-separated, in the order
	// asked; others are dropped, and no requested scope means no scope
	// claim.
	Scopes []string
	// ClientID and ClientSecret authenticate the default client, which may
	// ask for any of Scopes, with client_secret_basic or client_secret_post.
	ClientID     string
	ClientSecret string
	// AccessTokenTTL is the lifetime of an access token: exp - iat, and the
	// token response's expires_in.
	AccessTokenTTL time.Duration

	t testing.TB
	p *process
}

// OIDCOption changes how [StartOIDC] configures the provider.
type OIDCOption func(*oidcConfig)

// oidcConfig is what server.mjs reads, as JSON, from FUNCIFY_OIDC_CONFIG.
type oidcConfig struct {
	Port           int          `json:"port"`
	Audience       string       `json:"audience"`
	Scopes         []string     `json:"scopes"`
	AccessTokenTTL int          `json:"accessTokenTTL"` // seconds
	Clients        []oidcClient `json:"clients"`
}

type oidcClient struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
	// Scope, when not empty, limits which of the audience's scopes the
	// client may ask for.
	Scope string `json:"scope,omitempty"`
}

// WithOIDCAudience sets the audience, an absolute URI without a fragment
// (default [DefaultOIDCAudience]).
func WithOIDCAudience(aud string) OIDCOption {
	return func(c *oidcConfig) { c.Audience = aud }
}

// WithOIDCScopes sets the scopes that the audience accepts (default
// [DefaultOIDCScopes]). A scope may not contain a space; "openid" and
// "offline_access" are the provider's own and may not be used.
func WithOIDCScopes(scopes ...string) OIDCOption {
	return func(c *oidcConfig) { c.Scopes = slices.Clone(scopes) }
}

// WithOIDCTokenTTL sets the lifetime of access tokens, in whole seconds, at
// least one (default [DefaultOIDCTokenTTL]).
func WithOIDCTokenTTL(d time.Duration) OIDCOption {
	return func(c *oidcConfig) { c.AccessTokenTTL = int(d / time.Second) }
}

// WithOIDCClient adds a client besides the default one; get its tokens with
// [OIDCServer.ClientToken]. With scopes, the client may ask only for those
// (others are refused with invalid_scope); they must be among the audience's
// scopes. Without, it may ask for any of the audience's scopes.
func WithOIDCClient(id, secret string, scopes ...string) OIDCOption {
	return func(c *oidcConfig) {
		c.Clients = append(c.Clients, oidcClient{ID: id, Secret: secret, Scope: strings.Join(scopes, " ")})
	}
}

// StartOIDC starts oidc-provider, the version pinned in
// internal/testenv/oidc, on a free loopback port, configured by
// internal/testenv/oidc/server.mjs:
//
//   - the issuer is exactly http://127.0.0.1:PORT, and discovery, the token
//     endpoint and the JWKS are served under it over plain HTTP;
//   - clients may use only the client-credentials grant, and authenticate
//     with client_secret_basic or client_secret_post; the default client's
//     secret is random, see [OIDCServer.ClientSecret];
//   - one resource server, the audience, whose access tokens are JWTs signed
//     RS256 (header typ "at+jwt") with a 2048-bit RSA key generated at start,
//     published at the jwks_uri with its kid; a token request without a
//     resource parameter gets the audience as well, and any other resource
//     is refused with invalid_target;
//   - a token's claims are iss, aud (a string), sub and client_id (both the
//     client id), iat, exp, jti, and scope (the requested scopes the audience
//     accepts, space-separated in the order asked; others are dropped
//     silently; absent when none was asked for). There is no nbf.
//
// It returns once the discovery document answers with that issuer (within
// 10 s), and registers a t.Cleanup that stops it. Tokens signed by one
// server do not verify with another's keys.
//
// oidc-provider is looked for under the root of the module that holds the
// test's working directory. When it is not installed there, or node is not
// in PATH, StartOIDC skips the test with the install command, or fails it
// under [RequireServers]; it then returns nil (only reached by a testing.TB
// whose Skipf returns). oidc-provider 9 warns that it wants Node.js 22 but
// runs on Node.js 20.18 and later.
func StartOIDC(t testing.TB, opts ...OIDCOption) *OIDCServer {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		missing(t, "oidc-provider is not installed: "+err.Error(), OIDCInstall+"   # from the root of the funcify module")
		return nil
	}
	dir := filepath.Join(root, oidcDir)
	script := filepath.Join(dir, "server.mjs")
	if !isFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")) || !isFile(script) {
		missing(t, "oidc-provider is not installed in "+dir, "cd "+root+" && "+OIDCInstall)
		return nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node (Node.js 20.18 or later, which runs oidc-provider) is not in PATH", "apt-get install nodejs")
		return nil
	}

	cfg := oidcConfig{
		Audience:       DefaultOIDCAudience,
		Scopes:         slices.Clone(DefaultOIDCScopes),
		AccessTokenTTL: int(DefaultOIDCTokenTTL / time.Second),
		Clients:        []oidcClient{{ID: DefaultOIDCClientID, Secret: rand.Text()}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.check(); err != nil {
		t.Fatalf("testenv: StartOIDC: %v", err)
	}

	for attempt := 1; ; attempt++ {
		addr := loopback(FreePort(t))
		_, port, _ := strings.Cut(addr, ":")
		cfg.Port, _ = strconv.Atoi(port)
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("testenv: StartOIDC: %v", err)
		}
		env := []string{"PATH=" + os.Getenv("PATH"), "FUNCIFY_OIDC_CONFIG=" + string(js)}
		p := start(t, "oidc-provider", node, []string{script}, env, dir)
		issuer := "http://" + addr
		s := &OIDCServer{
			Issuer:         issuer,
			DiscoveryURL:   issuer + "/.well-known/openid-configuration",
			Audience:       cfg.Audience,
			Scopes:         slices.Clone(cfg.Scopes),
			ClientID:       cfg.Clients[0].ID,
			ClientSecret:   cfg.Clients[0].Secret,
			AccessTokenTTL: time.Duration(cfg.AccessTokenTTL) * time.Second,
			t:              t,
			p:              p,
		}
		err = p.waitReady(addr)
		if err == nil {
			// Something else may hold the port: make sure it is ours.
			err = s.discover()
		}
		if err == nil {
			return s
		}
		if stopErr := p.stop(); stopErr != nil {
			t.Errorf("testenv: %v", stopErr)
		}
		if attempt < oidcAttempts && strings.Contains(p.out.String(), "EADDRINUSE") {
			t.Logf("testenv: oidc-provider lost a port race (attempt %d), retrying with a new port", attempt)
			continue
		}
		t.Fatalf("testenv: %v\n%s", err, p.out)
	}
}

// check refuses a configuration that server.mjs would refuse or misread.
func (c *oidcConfig) check() error {
	u, err := url.Parse(c.Audience)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(c.Audience, "#") {
		return fmt.Errorf("audience %q is not an absolute URI without a fragment", c.Audience)
	}
	if len(c.Scopes) == 0 {
		return fmt.Errorf("no scopes")
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") || s == "openid" || s == "offline_access" {
			return fmt.Errorf("bad scope %q", s)
		}
	}
	if c.AccessTokenTTL < 1 {
		return fmt.Errorf("access token TTL under a second")
	}
	ids := map[string]bool{}
	for _, cl := range c.Clients {
		if cl.ID == "" || cl.Secret == "" || ids[cl.ID] {
			return fmt.Errorf("client %q: empty or repeated id, or empty secret", cl.ID)
		}
		ids[cl.ID] = true
		for s := range strings.FieldsSeq(cl.Scope) {
			if !slices.Contains(c.Scopes, s) {
				return fmt.Errorf("client %q: scope %q is not one of the audience's %q", cl.ID, s, c.Scopes)
			}
		}
	}
	return nil
}

// discover checks that the server at s.Issuer is this provider, by its
// discovery document, and takes the token and JWKS endpoints from it.
func (s *OIDCServer) discover() error {
	c := &http.Client{Timeout: readyTimeout}
	resp, err := c.Get(s.DiscoveryURL)
	if err != nil {
		return fmt.Errorf("oidc-provider does not answer: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		JWKSURI       string `json:"jwks_uri"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil || doc.Issuer != s.Issuer ||
		doc.TokenEndpoint == "" || doc.JWKSURI == "" {
		return fmt.Errorf("%s is not this oidc-provider: status %d, body %.300q", s.DiscoveryURL, resp.StatusCode, body)
	}
	if s.p.exited() {
		return fmt.Errorf("oidc-provider exited: %v", s.p.err)
	}
	s.TokenURL, s.JWKSURL = doc.TokenEndpoint, doc.JWKSURI
	return nil
}

// Token performs a client-credentials grant as the default client, for the
// audience, asking for scopes, and returns the access token: an RS256 JWT.
// With no scopes, the token has no scope claim. It fails t when the provider
// refuses.
func (s *OIDCServer) Token(t testing.TB, scopes ...string) string {
	t.Helper()
	return s.ClientToken(t, s.ClientID, s.ClientSecret, scopes...)
}

// ClientToken is [OIDCServer.Token] for the client id with secret, such as
// one added with [WithOIDCClient]. It authenticates with
// client_secret_basic, the id and secret form-encoded as RFC 6749 wants, and
// sends resource=Audience.
func (s *OIDCServer) ClientToken(t testing.TB, id, secret string, scopes ...string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {s.Audience}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, err := http.NewRequest(http.MethodPost, s.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("testenv: token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	c := &http.Client{Timeout: readyTimeout}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("testenv: token request to %s: %v", s.TokenURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" ||
		!strings.EqualFold(tok.TokenType, "Bearer") {
		t.Fatalf("testenv: token request for client %q, scopes %q: status %d, body %s", id, scopes, resp.StatusCode, body)
	}
	return tok.AccessToken
}

// Stop kills the provider now, before the test ends: its endpoints refuse
// connections from then on. Stop may be called more than once; the cleanup
// that StartOIDC registered does nothing more.
func (s *OIDCServer) Stop() {
	s.t.Helper()
	if err := s.p.stop(); err != nil {
		s.t.Errorf("testenv: %v", err)
	}
}
