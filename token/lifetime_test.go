package token_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/funcify/funcify/token"
	"github.com/funcify/funcify/window"
)

// TestShortLivedTokens simulates instances that each call Token every
// two-hundredth of the token's life for three lifetimes, each with random
// draws of its own, for tokens that live 5 s, 13 s, 40 s and an hour under
// the default window. Twenty calls at one moment make one grant, no
// instance makes more than one grant per half-life, every token is renewed
// before it expires, and the instances' first refreshes spread over the
// window instead of falling on one moment.
func TestShortLivedTokens(t *testing.T) {
	const instances = 40
	for _, lifetime := range []time.Duration{5 * time.Second, 13 * time.Second, 40 * time.Second, time.Hour} {
		t.Run(lifetime.String(), func(t *testing.T) {
			var firsts []time.Duration
			for i := range instances {
				clk := newClock()
				start := clk.Now()
				var grants []time.Time // written by the caller's own goroutine
				idp := idpFunc(func(req *http.Request) (*http.Response, error) {
					grants = append(grants, clk.Now())
					return answer(req, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"Bearer","expires_in":%d}`, len(grants), int(lifetime/time.Second))), nil
				})
				r := rand.New(rand.NewPCG(uint64(i), 7))
				src := newSource(t, clocked(clk.Now, drawing(r.Float64, token.Config{TokenURL: "https://idp.example/token", HTTPClient: &http.Client{Transport: idp}})))
				for range 20 {
					mustToken(t, src)
				}
				if len(grants) != 1 {
					t.Fatalf("instance %d: 20 calls at the issue made %d grants, want 1", i, len(grants))
				}
				for step := lifetime / 200; clk.Now().Before(start.Add(3 * lifetime)); {
					clk.Add(step)
					if tok := mustToken(t, src); !clk.Now().Before(tok.Expiry) {
						t.Fatalf("instance %d: served a token that expired %v ago", i, clk.Now().Sub(tok.Expiry))
					}
				}
				for j := 1; j < len(grants); j++ {
					if gap := grants[j].Sub(grants[j-1]); gap < lifetime/2 {
						t.Fatalf("instance %d: grants %d and %d are %v apart, less than half the %v life", i, j-1, j, gap, lifetime)
					}
				}
				if len(grants) < 4 {
					t.Fatalf("instance %d: %d grants over three lifetimes, want a renewal before each expiry", i, len(grants))
				}
				firsts = append(firsts, grants[1].Sub(grants[0]))
			}
			slices.Sort(firsts)
			if spread := firsts[len(firsts)-1] - firsts[0]; spread < lifetime/8 {
				t.Errorf("the first refreshes of %d instances spread over %v, want at least an eighth of the %v life: %v", instances, spread, lifetime, firsts)
			}
			if distinct := len(slices.Compact(slices.Clone(firsts))); distinct < instances/2 {
				t.Errorf("%d instances refreshed first at %d distinct moments, want at least %d", instances, distinct, instances/2)
			}
		})
	}
}

// TestWindowNone: a Config.Window with negative fields ("none", per
// window.Settings) keeps that meaning once fitted to the token: an
// hour-long token is kept, not due as soon as it is issued, so twenty
// calls at one moment make one grant.
func TestWindowNone(t *testing.T) {
	for _, w := range []window.Settings{{Width: -1, Threshold: -1}, {Width: -1, Threshold: 5 * time.Minute}} {
		t.Run(fmt.Sprintf("%+v", w), func(t *testing.T) {
			p := newProvider(t)
			clk := newClock()
			// Draws of 0: the first moment of the window.
			src := newSource(t, clocked(clk.Now, drawing(func() float64 { return 0 }, token.Config{TokenURL: p.URL, Window: w})))
			for range 20 {
				mustToken(t, src)
			}
			if got := p.grants.Load(); got != 1 {
				t.Errorf("Window %+v, an hour-long token: 20 calls at one moment made %d grants, want 1", w, got)
			}
		})
	}
}
