package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// A waiter with time, behind a waiter short of time that took the fetch
// over from a leader short of time and was held back by that leader's
// failure, fetches in turn: the backoff that held the other back is no
// verdict on its own chances. The order in which waiters take over is the
// scheduler's, so the test makes the one short of time lead the run that
// the gate refuses.
func TestGateRefusalForWantOfTimeNotInherited(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	doc := fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","kid":"ec","alg":"ES256","x":%q,"y":%q}]}`,
		b64(key.X.FillBytes(make([]byte, 32))), b64(key.Y.FillBytes(make([]byte, 32))))
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(doc))
	}))
	defer srv.Close()
	clk := time.Unix(1_700_000_000, 0)
	j := NewJWKS(srv.URL, WithClock(func() time.Time { return clk }))
	// A fetch under a caller short of time has just failed on its own
	// bound: the state refreshOnce leaves after such a failure.
	j.failedAt, j.failedShort = clk, true

	short, cancel := context.WithTimeout(context.Background(), 1600*time.Millisecond)
	defer cancel()
	started, release := make(chan struct{}), make(chan struct{})
	leader := make(chan error, 1)
	go func() {
		_, _, err := j.flight.Do(short, "", func(ctx context.Context) (*KeySet, error) {
			close(started)
			<-release
			return j.refreshOnce(ctx)
		})
		leader <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the run short of time did not start within 10s")
	}
	waiter := make(chan error, 1)
	go func() {
		_, err := j.Key(context.Background(), "ec", "ES256")
		waiter <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); j.flight.Waiting("") < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the waiter did not join within 10s")
		}
		runtime.Gosched()
	}
	close(release)
	for _, c := range []struct {
		name string
		ch   chan error
		ok   bool
	}{{"the caller short of time", leader, false}, {"the waiter with time", waiter, true}} {
		select {
		case err := <-c.ch:
			if (err == nil) != c.ok {
				t.Errorf("%s: got %v, want success %v", c.name, err, c.ok)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer within 10s", c.name)
		}
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("got %d fetches, want 1: the waiter's", got)
	}
}
