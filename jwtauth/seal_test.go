package jwtauth_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcify/funcify/jwtauth"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/memstore"
)

var sealKey = bytes.Repeat([]byte{7}, 32)

// plant writes value at key in s, over whatever is there, as whoever can
// write to the store could.
func plant(t *testing.T, s store.Store, key string, value []byte) {
	t.Helper()
	ctx := context.Background()
	it, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSet(ctx, key, it.Version, value, 0); err != nil {
		t.Fatal(err)
	}
}

// storedDoc is a JWKS document as a source keeps it in the store, fetched
// at the tests' now.
func storedDoc(t *testing.T, doc []byte) []byte {
	t.Helper()
	v, err := json.Marshal(map[string]any{"at": now.UnixNano(), "doc": json.RawMessage(doc)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// With a seal key, keys planted in the store by someone without the key
// are refused: the source fetches from the provider and replaces them.
func TestSealedStoreRefusesPlantedKeys(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	shared := memstore.New(memstore.WithClock(clk.Now))
	url := p.srv.URL + "/jwks"
	key := jwtauth.StoreKey("jwks", url)
	attacker := jwksDoc(t, map[string]crypto.PublicKey{"rsa": &k.attackerRSA.PublicKey, "evil": &k.attackerRSA.PublicKey})
	forged := sign(t, hdr("RS256", "evil"), claims(nil), "RS256", k.attackerRSA)
	forgedRSA := sign(t, hdr("RS256", "rsa"), claims(nil), "RS256", k.attackerRSA)
	ctx := context.Background()

	newV := func(logs *logBuffer) *jwtauth.Validator {
		return jwksValidator(t, jwtauth.NewJWKS(url, jwtauth.WithStore(shared), jwtauth.WithSealKey(sealKey),
			jwtauth.WithClock(clk.Now), jwtauth.WithLogger(logs.logger())), clk)
	}

	// Planted in plain text.
	plant(t, shared, key, storedDoc(t, attacker))
	logs := &logBuffer{}
	v := newV(logs)
	for _, tok := range []string{forged, forgedRSA} {
		if _, err := v.Validate(ctx, tok); err == nil {
			t.Fatal("a token signed with keys planted in the store validated")
		}
	}
	if _, err := v.Validate(ctx, validRS256(t)); err != nil {
		t.Fatalf("the provider's token: %v", err)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("got %d fetches, want 1: the planted value must send the source to the provider", got)
	}
	if !strings.Contains(logs.String(), "stored document refused") {
		t.Errorf("the refused value was not logged:\n%s", logs)
	}

	// The source replaced it with a sealed value, which a cold instance
	// reads without fetching.
	it, err := shared.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(it.Value, []byte("jwtauth-hmac1.")) {
		t.Fatalf("the store holds %.40q, want a sealed value", it.Value)
	}
	if _, err := newV(&logBuffer{}).Validate(ctx, validRS256(t)); err != nil {
		t.Fatalf("cold instance, sealed value: %v", err)
	}
	if got := p.jwksHits.Load(); got != 1 {
		t.Errorf("cold instance: got %d fetches, want the sealed value used", got)
	}

	// The attacker keeps the tag and swaps the document.
	_, tag, _ := bytes.Cut(it.Value, []byte("."))
	tag, _, _ = bytes.Cut(tag, []byte("."))
	for name, value := range map[string][]byte{
		"document swapped": append([]byte("jwtauth-hmac1."+string(tag)+"."), storedDoc(t, attacker)...),
		"tag cut":          append([]byte("jwtauth-hmac1."), storedDoc(t, attacker)...),
		"tag empty":        append([]byte("jwtauth-hmac1.."), storedDoc(t, attacker)...),
	} {
		plant(t, shared, key, value)
		hits := p.jwksHits.Load()
		if _, err := newV(&logBuffer{}).Validate(ctx, forged); err == nil {
			t.Errorf("%s: a token signed with planted keys validated", name)
		}
		if got := p.jwksHits.Load(); got != hits+1 {
			t.Errorf("%s: got %d fetches, want the provider asked", name, got-hits)
		}
	}
}

// A sealed value is bound to its store key: the value of another document
// sealed with the same key does not stand in for it.
func TestSealedValueBoundToItsKey(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	good := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	evil := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.attackerRSA.PublicKey})
	clk := &fakeClock{t: now}
	shared := memstore.New(memstore.WithClock(clk.Now))
	ctx := context.Background()
	opts := []jwtauth.Option{jwtauth.WithStore(shared), jwtauth.WithSealKey(sealKey), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)}
	// A legitimate source of the same fleet seals the other provider's keys.
	if _, err := jwtauth.NewJWKS(evil.srv.URL+"/jwks", opts...).Key(ctx, "rsa", "RS256"); err != nil {
		t.Fatal(err)
	}
	it, err := shared.Get(ctx, jwtauth.StoreKey("jwks", evil.srv.URL+"/jwks"))
	if err != nil {
		t.Fatal(err)
	}
	plant(t, shared, jwtauth.StoreKey("jwks", good.srv.URL+"/jwks"), it.Value)
	v := jwksValidator(t, jwtauth.NewJWKS(good.srv.URL+"/jwks", opts...), clk)
	if _, err := v.Validate(ctx, sign(t, hdr("RS256", "rsa"), claims(nil), "RS256", k.attackerRSA)); err == nil {
		t.Error("a value sealed for another document was used")
	}
	if got := good.jwksHits.Load(); got != 1 {
		t.Errorf("got %d fetches, want 1", got)
	}
}

// With a seal key, a jwks_uri planted in the store is refused: discovery
// asks the provider.
func TestSealedStoreRefusesPlantedJWKSURI(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	var evilHits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		w.Write(jwksDoc(t, map[string]crypto.PublicKey{"rsa": &k.attackerRSA.PublicKey}))
	}))
	t.Cleanup(evil.Close)
	clk := &fakeClock{t: now}
	shared := memstore.New(memstore.WithClock(clk.Now))
	issuer := p.srv.URL
	plant(t, shared, jwtauth.StoreKey("oidc", issuer), []byte(evil.URL+"/jwks"))
	src := jwtauth.NewOIDC(issuer, jwtauth.WithStore(shared), jwtauth.WithSealKey(sealKey), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))
	v := newClocked(t, jwtauth.Config{Keys: src, Issuer: issuer}, clk.Now)
	if _, err := v.Validate(context.Background(), sign(t, hdr("RS256", "rsa"), claims(map[string]any{"iss": issuer}), "RS256", k.attackerRSA)); err == nil {
		t.Error("a token signed with keys from a planted jwks_uri validated")
	}
	if _, err := v.Validate(context.Background(), sign(t, hdr("RS256", "rsa"), claims(map[string]any{"iss": issuer}), "RS256", k.rsa)); err != nil {
		t.Errorf("the provider's token: %v", err)
	}
	if evilHits.Load() != 0 || p.discHits.Load() != 1 {
		t.Errorf("got %d fetches from the planted jwks_uri and %d discoveries, want 0 and 1", evilHits.Load(), p.discHits.Load())
	}
}

// A source without a seal key reads sealed values, so a fleet can move to
// a key one instance at a time.
func TestUnsealedSourceReadsSealedValues(t *testing.T) {
	t.Parallel()
	k := testKeys(t)
	p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
	clk := &fakeClock{t: now}
	shared := memstore.New(memstore.WithClock(clk.Now))
	issuer := p.srv.URL
	tok := sign(t, hdr("RS256", "rsa"), claims(map[string]any{"iss": issuer}), "RS256", k.rsa)
	for _, opts := range [][]jwtauth.Option{{jwtauth.WithSealKey(sealKey)}, nil} {
		src := jwtauth.NewOIDC(issuer, append(opts, jwtauth.WithStore(shared), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet))...)
		v := newClocked(t, jwtauth.Config{Keys: src, Issuer: issuer}, clk.Now)
		if _, err := v.Validate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if d, j := p.discHits.Load(), p.jwksHits.Load(); d != 1 || j != 1 {
		t.Errorf("got %d discoveries and %d JWKS fetches, want 1 and 1: the unsealed source did not read the sealed values", d, j)
	}
}

// A sealed document replayed into the store is used, when the provider
// fails, only while the store itself would still hold it (7 days): past
// that, the seal cannot say it is current, and a key that the provider
// rotated out long ago (because it leaked) would validate again on every
// cold instance for as long as the provider is down, or the attacker can
// make the fetch fail.
func TestSealedDocumentReplayRefusedPastStoreTTL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		age   time.Duration
		valid bool
	}{
		{"6 days", 6 * 24 * time.Hour, true},
		{"30 days", 30 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := testKeys(t)
			p := newProvider(t, map[string]crypto.PublicKey{"rsa": &k.rsa.PublicKey})
			clk := &fakeClock{t: now}
			shared := memstore.New(memstore.WithClock(clk.Now))
			url := p.srv.URL + "/jwks"
			key := jwtauth.StoreKey("jwks", url)
			opts := []jwtauth.Option{jwtauth.WithStore(shared), jwtauth.WithSealKey(sealKey), jwtauth.WithClock(clk.Now), jwtauth.WithLogger(quiet)}
			ctx := context.Background()

			// Day 0: the fleet fetches and seals the set with key "rsa";
			// the attacker, who can read and write the store, keeps a copy.
			if _, err := jwtauth.NewJWKS(url, opts...).Key(ctx, "rsa", "RS256"); err != nil {
				t.Fatal(err)
			}
			it, err := shared.Get(ctx, key)
			if err != nil || it.Version == 0 {
				t.Fatalf("nothing stored: %v", err)
			}
			saved := it.Value

			// Later: "rsa" was rotated out; the provider is down; the
			// copy is planted back.
			clk.Advance(tc.age)
			p.set(t, map[string]crypto.PublicKey{"rsa2": &k.rsa2.PublicKey})
			p.setDown(true)
			plant(t, shared, key, saved)

			later := clk.Now()
			old := sign(t, hdr("RS256", "rsa"), claims(map[string]any{
				"exp": later.Add(time.Hour).Unix(), "iat": later.Add(-time.Minute).Unix(), "nbf": later.Add(-time.Minute).Unix(),
			}), "RS256", k.rsa)
			v := jwksValidator(t, jwtauth.NewJWKS(url, opts...), clk)
			_, err = v.Validate(ctx, old)
			switch {
			case tc.valid && err != nil:
				t.Errorf("a cold instance with the provider down refused a set stored %v ago: %v", tc.age, err)
			case !tc.valid && err == nil:
				t.Errorf("a cold instance validated a token signed with a key rotated out %v ago, from a replayed sealed document", tc.age)
			case !tc.valid && !errors.Is(err, jwtauth.ErrKeysUnavailable):
				t.Errorf("got %v, want ErrKeysUnavailable", err)
			}
		})
	}
}

func TestSealKeyTooShortPanics(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewJWKS with a %d-byte seal key did not panic", n)
				}
			}()
			jwtauth.NewJWKS("https://idp.example/jwks", jwtauth.WithSealKey(make([]byte, n)))
		})
	}
}
