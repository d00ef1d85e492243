package testenv

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOIDC(t *testing.T) {
	// Two providers at once: each has an issuer, a key and tokens of its own.
	servers := make(chan *OIDCServer, 2)
	tokens := make(chan string, 2)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := StartOIDC(t)
				servers <- s
				checkDiscovery(t, s)
				tok := s.Token(t, "orders:order:read", "orders:order:write")
				tokens <- tok
				header, claims := verifyJWT(t, s, tok)
				if header["alg"] != "RS256" || header["typ"] != "at+jwt" {
					t.Errorf("header %v: want alg RS256, typ at+jwt", header)
				}
				checkClaims(t, s, claims, s.ClientID, "orders:order:read orders:order:write")
				if testing.Verbose() {
					t.Logf("header %s\nclaims %s", mustJSON(header), mustJSON(claims))
				}
			})
		}
	})
	if t.Failed() || len(servers) < 2 {
		return
	}
	a, b := <-servers, <-servers
	if a.Issuer == b.Issuer {
		t.Errorf("two servers share the issuer %s", a.Issuer)
	}
	// Each server signs with a key of its own.
	ta, tb := <-tokens, <-tokens
	if kid(t, ta) == kid(t, tb) {
		t.Errorf("two servers sign with the same kid %s", kid(t, ta))
	}
}

func TestOIDCTokens(t *testing.T) {
	t.Parallel()
	s := StartOIDC(t,
		WithOIDCAudience("https://api.example/v1"),
		WithOIDCScopes("svc:a:read", "svc:a:write", "svc:b:*"),
		WithOIDCTokenTTL(90*time.Second),
		WithOIDCClient("reader", "reader secret+/%", "svc:a:read"),
		WithOIDCClient("any", "any-secret"),
	)
	if s.AccessTokenTTL != 90*time.Second || s.Audience != "https://api.example/v1" {
		t.Fatalf("server %+v does not reflect the options", s)
	}

	t.Run("scopes requested", func(t *testing.T) {
		_, c := verifyJWT(t, s, s.Token(t, "svc:b:*", "svc:a:read"))
		checkClaims(t, s, c, s.ClientID, "svc:b:* svc:a:read") // in the order asked
	})
	t.Run("no scope", func(t *testing.T) {
		_, c := verifyJWT(t, s, s.Token(t))
		checkClaims(t, s, c, s.ClientID, "")
	})
	t.Run("unknown scope dropped", func(t *testing.T) {
		_, c := verifyJWT(t, s, s.Token(t, "svc:a:write", "other:x:y"))
		checkClaims(t, s, c, s.ClientID, "svc:a:write")
	})
	t.Run("client limited to a scope", func(t *testing.T) {
		// The secret needs form-encoding in the basic credentials.
		_, c := verifyJWT(t, s, s.ClientToken(t, "reader", "reader secret+/%", "svc:a:read"))
		checkClaims(t, s, c, "reader", "svc:a:read")
		status, body := postToken(t, s, "reader", "reader secret+/%", true,
			url.Values{"scope": {"svc:a:write"}, "resource": {s.Audience}})
		if status != http.StatusBadRequest || !strings.Contains(body, `"invalid_scope"`) {
			t.Errorf("reader asking for svc:a:write: status %d, body %s; want 400 invalid_scope", status, body)
		}
	})
	t.Run("client_secret_post without resource", func(t *testing.T) {
		status, body := postToken(t, s, "any", "any-secret", false, url.Values{"scope": {"svc:a:read"}})
		if status != http.StatusOK {
			t.Fatalf("status %d, body %s", status, body)
		}
		var resp struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
			Scope       string `json:"scope"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.ExpiresIn != 90 || resp.Scope != "svc:a:read" || resp.TokenType != "Bearer" {
			t.Errorf("token response %s", body)
		}
		_, c := verifyJWT(t, s, resp.AccessToken)
		checkClaims(t, s, c, "any", "svc:a:read")
	})
	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			name, id, secret string
			form             url.Values
			status           int
			errCode          string
		}{
			{"wrong secret", s.ClientID, "nope", url.Values{}, http.StatusUnauthorized, "invalid_client"},
			{"unknown client", "nobody", "x", url.Values{}, http.StatusUnauthorized, "invalid_client"},
			{"other resource", s.ClientID, s.ClientSecret, url.Values{"resource": {"https://other.example"}}, http.StatusBadRequest, "invalid_target"},
		} {
			status, body := postToken(t, s, tt.id, tt.secret, true, tt.form)
			if status != tt.status || !strings.Contains(body, `"`+tt.errCode+`"`) {
				t.Errorf("%s: status %d, body %s; want %d %s", tt.name, status, body, tt.status, tt.errCode)
			}
		}
	})
}

func TestOIDCStop(t *testing.T) {
	t.Parallel()
	s := StartOIDC(t)
	s.Token(t)
	s.Stop()
	s.Stop() // a second Stop, and the cleanup after it, do nothing
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(s.Issuer, "http://"), time.Second); err == nil {
		t.Errorf("%s still accepts connections after Stop", s.Issuer)
	}
}

// TestOIDCMissing checks the skip, and its install command, when the module
// root holds no installed oidc-provider.
func TestOIDCMissing(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "go.mod"), "module example.com/m\n")
	mustWrite(t, filepath.Join(root, dynaliteDir, "package.json"), "{}\n")
	mustWrite(t, filepath.Join(root, oidcDir, "server.mjs"), "\n")
	sub := filepath.Join(root, "jwtauth")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	t.Setenv(requireEnv, "")
	r := &recorder{TB: t}
	if s := StartOIDC(r); s != nil {
		t.Fatalf("StartOIDC started %s without an installed oidc-provider", s.Issuer)
	}
	want := "cd " + root + " && " + OIDCInstall
	if !strings.Contains(r.skipped, want) {
		t.Errorf("skip message %q does not hold %q", r.skipped, want)
	}

	t.Setenv(requireEnv, "1")
	r = &recorder{TB: t}
	StartOIDC(r)
	if !strings.Contains(r.failed, want) || r.skipped != "" {
		t.Errorf("under %s=1: failed %q, skipped %q; want a failure with %q", requireEnv, r.failed, r.skipped, want)
	}
}

func TestOIDCBadOptions(t *testing.T) {
	for name, opt := range map[string]OIDCOption{
		"relative audience":    WithOIDCAudience("orders"),
		"audience fragment":    WithOIDCAudience("https://orders.example/#x"),
		"no scopes":            WithOIDCScopes(),
		"scope with space":     WithOIDCScopes("a b"),
		"openid scope":         WithOIDCScopes("openid"),
		"short ttl":            WithOIDCTokenTTL(time.Millisecond),
		"client scope unknown": WithOIDCClient("c", "s", "nope"),
		"client repeated":      WithOIDCClient(DefaultOIDCClientID, "s"),
	} {
		cfg := oidcConfig{
			Audience: DefaultOIDCAudience, Scopes: DefaultOIDCScopes, AccessTokenTTL: 600,
			Clients: []oidcClient{{ID: DefaultOIDCClientID, Secret: "x"}},
		}
		opt(&cfg)
		if err := cfg.check(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func checkDiscovery(t *testing.T, s *OIDCServer) {
	t.Helper()
	var doc map[string]any
	getJSON(t, s.DiscoveryURL, &doc)
	if doc["issuer"] != s.Issuer || doc["token_endpoint"] != s.TokenURL || doc["jwks_uri"] != s.JWKSURL {
		t.Errorf("discovery %v: want issuer %s, token_endpoint %s, jwks_uri %s", doc, s.Issuer, s.TokenURL, s.JWKSURL)
	}
	if !strings.HasPrefix(s.TokenURL, s.Issuer+"/") || !strings.HasPrefix(s.JWKSURL, s.Issuer+"/") {
		t.Errorf("endpoints %s, %s are not under the issuer %s", s.TokenURL, s.JWKSURL, s.Issuer)
	}
	if !strings.HasPrefix(s.Issuer, "http://127.0.0.1:") {
		t.Errorf("issuer %s is not on 127.0.0.1", s.Issuer)
	}
}

// checkClaims checks the claims of a client-credentials token of s for
// client, with scope ("" for none).
func checkClaims(t *testing.T, s *OIDCServer, c map[string]any, client, scope string) {
	t.Helper()
	want := []string{"aud", "client_id", "exp", "iat", "iss", "jti", "sub"}
	if scope != "" {
		want = append(want, "scope")
	}
	var got []string
	for k := range c {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("claims %v, want exactly %v", got, want)
	}
	if c["iss"] != s.Issuer || c["aud"] != s.Audience || c["sub"] != client || c["client_id"] != client {
		t.Errorf("claims %v: want iss %s, aud %s, sub and client_id %s", c, s.Issuer, s.Audience, client)
	}
	if scope != "" && c["scope"] != scope {
		t.Errorf("scope %q, want %q", c["scope"], scope)
	}
	iat, ok1 := c["iat"].(json.Number)
	exp, ok2 := c["exp"].(json.Number)
	i, err1 := iat.Int64()
	e, err2 := exp.Int64()
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		t.Fatalf("iat %v, exp %v: want integers", c["iat"], c["exp"])
	}
	now := time.Now().Unix()
	if e <= now || i > now+5 || i < now-60 || time.Duration(e-i)*time.Second != s.AccessTokenTTL {
		t.Errorf("iat %d, exp %d, now %d: want iat about now, exp = iat + %v", i, e, now, s.AccessTokenTTL)
	}
}

// verifyJWT checks tok's RS256 signature with the key of s's JWKS that its
// kid names, using the standard library only, and returns its header and
// claims (numbers as json.Number).
func verifyJWT(t *testing.T, s *OIDCServer, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS in compact form", tok)
	}
	header = decodeSegment(t, parts[0])
	claims = decodeSegment(t, parts[1])
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	if header["alg"] != "RS256" {
		t.Fatalf("alg %v, want RS256", header["alg"])
	}
	kid, _ := header["kid"].(string)
	if kid == "" {
		t.Fatalf("header %v has no kid", header)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, Use, Alg, N, E string
			D                        string `json:"d"`
		} `json:"keys"`
	}
	getJSON(t, s.JWKSURL, &set)
	var pub *rsa.PublicKey
	for _, k := range set.Keys {
		if k.D != "" {
			t.Fatalf("the JWKS publishes a private key: %+v", k)
		}
		if k.Kid != kid {
			continue
		}
		if k.Kty != "RSA" {
			t.Fatalf("key %s has kty %s", kid, k.Kty)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("key %s: %v", kid, err)
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if pub == nil {
		t.Fatalf("kid %s is not in the JWKS %+v", kid, set)
	}
	if pub.N.BitLen() < 2048 {
		t.Errorf("key %s has %d bits", kid, pub.N.BitLen())
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature does not verify with key %s: %v", kid, err)
	}
	return header, claims
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		t.Fatalf("segment %q: %v", seg, err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("segment %s: %v", b, err)
	}
	return m
}

func kid(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	k, _ := decodeSegment(t, h)["kid"].(string)
	return k
}

// postToken posts a client-credentials request with form to s's token
// endpoint, authenticating with client_secret_basic when basic, else with
// client_secret_post, and returns the status and body.
func postToken(t *testing.T, s *OIDCServer, id, secret string, basic bool, form url.Values) (int, string) {
	t.Helper()
	form.Set("grant_type", "client_credentials")
	if !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, s.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
