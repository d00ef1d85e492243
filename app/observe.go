package app

import (
	"context"
	"net/http"

	"github.com/funcify/funcify/observe"
)

// Observer watches every invocation; see package observe.
type Observer = observe.Observer

// Invocation is what an Observer learns of one invocation; see package
// observe.
type Invocation = observe.Invocation

// ErrPanicked is an Observer's inv.Err when the invocation does not return;
// see package observe.
var ErrPanicked = observe.ErrPanicked

// WithObserver adds observers of every invocation (see package observe):
// the first given begins first and ends last. An
// observer that also has a method Shutdown(ctx context.Context) gets it
// called on shutdown, as a hook of [App.OnShutdown] added when New runs,
// in End's order (the last observer given first): give the observers that
// only write locally (metrics, logs) last, so that one that flushes over
// the network (spans), and may take the little time Lambda gives, runs
// after them.
func WithObserver(obs ...Observer) Option {
	return func(o *options) {
		for _, ob := range obs {
			if ob == nil {
				panic("app: WithObserver with a nil Observer")
			}
			o.observers = append(o.observers, ob)
		}
	}
}

// shutdowner is an Observer with work to do on shutdown.
type shutdowner interface{ Shutdown(ctx context.Context) }

// observed runs serve between the observers' Begin and End calls. Without
// observers it costs a length check.
func (a *App) observed(ctx context.Context, inv *Invocation, serve func(ctx context.Context, inv *Invocation) ([]byte, error)) ([]byte, error) {
	obs := a.opts.observers
	if len(obs) == 0 {
		return serve(ctx, nil)
	}
	ctx = context.WithValue(ctx, invocationKey{}, inv)
	// Each observer's End gets the context its own Begin returned: two
	// observers of one type (two span exporters) then never see each
	// other's state under their shared key.
	var small [4]context.Context
	ctxs := small[:0]
	if len(obs) > len(small) {
		ctxs = make([]context.Context, 0, len(obs))
	}
	for _, o := range obs {
		ctx = o.Begin(ctx, inv)
		ctxs = append(ctxs, ctx)
	}
	ended := false
	defer func() {
		if !ended { // a panic is on its way out
			inv.Err = ErrPanicked
			endAll(ctxs, obs, inv)
		}
	}()
	out, err := serve(ctx, inv)
	if inv.Err == nil && !inv.HTTP {
		inv.Err = err
	}
	ended = true
	endAll(ctxs, obs, inv)
	return out, err
}

// endAll calls the observers' End, the last one first, each with the
// context its Begin returned.
func endAll(ctxs []context.Context, obs []Observer, inv *Invocation) {
	for i := len(obs) - 1; i >= 0; i-- {
		obs[i].End(ctxs[i], inv)
	}
}

// invocationKey is the context key of the observed invocation, which the
// router fills the route of.
type invocationKey struct{}

// noteRoute records the pattern that routed r in the observed invocation
// of r's context, if any.
func noteRoute(r *http.Request) {
	if r.Pattern == "" {
		return
	}
	if inv, ok := r.Context().Value(invocationKey{}).(*Invocation); ok {
		inv.Route = r.Pattern
	}
}
