package token_test

// Tests of a Source on a Parameter Store store (through internal/awsfake),
// which need the Source's clock and so live here rather than in ssmstore.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/store/ssmstore"
	"github.com/funcify/funcify/token"
)

// TestTokenTooLarge: a token source on a Standard-tier store, with a token
// too large for it once sealed, serves its token from memory and gives its
// refresh lease back, so that the next cold instance grants at once rather
// than wait for the lease to end. The store is not taken for down: the log
// says once, at Error, that the token does not fit, and nothing about a
// failing store.
func TestTokenTooLarge(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(t)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"access_token":"%s","token_type":"Bearer","expires_in":3600}`, strings.Repeat("x", 3500))
	}))
	t.Cleanup(idp.Close)
	var logs bytes.Buffer
	cfg := token.Config{TokenURL: idp.URL, ClientID: "svc", Store: ssmstore.New(ssm.NewFromConfig(srv.Config()), "/funcify/test"),
		EncryptionKey: []byte("0123456789abcdef0123456789abcdef"), LeaseWait: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	clk := time.Now()
	token.SetClock(&cfg, func() time.Time { return clk })
	src, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if i == 1 {
			clk = clk.Add(59 * time.Minute) // due: the store is read, no lease taken
		}
		if _, err := src.Token(ctx); err != nil {
			t.Fatalf("refresh %d: %v (the lease was kept)", i, err)
		}
	}
	if n := srv.Count(awsfake.PutParameter); n != 2 {
		t.Errorf("%d PutParameter for two refreshes of a token too large, want 2 (one lease taken and given back)", n)
	}
	other, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Token(ctx); err != nil {
		t.Fatalf("the next cold instance: %v (the lease was kept)", err)
	}
	if n := strings.Count(logs.String(), "level=ERROR msg=\"token: the token does not fit the store"); n != 2 {
		t.Errorf("logged %d times that the token does not fit, want once per Source:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "store failed") {
		t.Errorf("a token too large was logged as a store failure:\n%s", logs.String())
	}
}

// TestLeaseBesideStoredToken: a 3.8 KB access token fits a Standard
// parameter and is stored. At the next refresh the lease write, which
// copies the stored token and adds the holder and the lease's end, is
// some 60 bytes over the tier's limit. The token was not too large: the
// Source must not say so and stop sharing it, but take the lease and share
// the next token, which the next cold instance reads without a grant.
func TestLeaseBesideStoredToken(t *testing.T) {
	srv := awsfake.New(t)
	var grants atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := grants.Add(1)
		fmt.Fprintf(w, `{"access_token":"%d%s","token_type":"Bearer","expires_in":3600}`, n, strings.Repeat("x", 3800))
	}))
	t.Cleanup(idp.Close)
	var logs bytes.Buffer
	clk := time.Now()
	cfg := token.Config{TokenURL: idp.URL, ClientID: "svc", Store: ssmstore.New(ssm.NewFromConfig(srv.Config()), "/funcify/test"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	token.SetClock(&cfg, func() time.Time { return clk })
	src, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "does not fit") {
		t.Fatalf("the first write did not fit: %s", logs.String())
	}
	clk = clk.Add(59 * time.Minute) // due
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "does not fit") {
		t.Errorf("a token the store holds was declared too large for it at the next refresh (its lease write):\n%s", logs.String())
	}
	if g := grants.Load(); g != 2 {
		t.Fatalf("%d grants for two refreshes, want 2", g)
	}
	other, err := token.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := other.Token(context.Background()); err != nil || got.AccessToken != tok.AccessToken || grants.Load() != 2 {
		t.Errorf("the next cold instance: %v after %d grants, want the refreshed token from the store", err, grants.Load())
	}
}
