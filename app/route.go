package app

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funcify/funcify/event"
	"github.com/funcify/funcify/trace"
)

// This file is the route table of the events that are not HTTP requests: a
// route is (kind, key) -> handler. A kind takes part by filling its entry
// in keyedKinds from an init function in a file of its own (route_s3.go),
// with the function that finds an event's source name, and by offering a
// typed HandleX function that wraps the user's handler into an
// eventHandler. Invoke, the pipeline and the errors are shared.

// eventHandler handles one routed non-HTTP event and returns the
// invocation's response. The typed HandleX functions build it around the
// user's handler: they take the kind's value out of ev, call the handler
// and encode its result.
type eventHandler func(ctx context.Context, ev *event.Event) ([]byte, error)

// keyedKind describes how the events of one kind find their route.
type keyedKind struct {
	// source returns the name of the event's source that its route key is
	// made from (an S3 event's bucket). An event that names more than one
	// source fails with a *RouteError.
	source func(ev *event.Event) (string, error)
	// key maps the source's name to the route key by default (BucketPrefix
	// for S3); nil keeps the name as it is. [WithRouteKey] replaces it.
	key func(name string) string
	// second, when set, returns the second part of a two-part route key
	// (an EventBridge event's detail-type), matched as it is. Either part
	// of such a route may be registered as "*", and an event goes to the
	// most specific route: (key, second), (key, *), (*, second), (*, *).
	second func(ev *event.Event) string
	// prepare, if set, readies a routed event before the guard sees it
	// (S3 decodes its object keys), so that the guard and the handler see
	// the same event.
	prepare func(ev *event.Event) error
}

// wildcard is the route key part that matches any value, in kinds whose
// keyedKind has a second part.
const wildcard = "*"

// joinKey returns the route table's key of a two-part route. NUL joins
// the parts: neither an EventBridge source nor a detail-type has one, so
// no two pairs share a key.
func joinKey(first, second string) string { return first + "\x00" + second }

// showKey returns a two-part route key as logs and a *RouteError show it:
// the parts joined by '/' ("com.example.orders/Order Shipped").
func showKey(key string) string {
	first, second, _ := strings.Cut(key, "\x00")
	return first + "/" + second
}

// keyedKinds holds the kinds routed by key. Each kind's file fills its
// entry in an init function; after init the map is only read.
var keyedKinds = map[event.Kind]keyedKind{}

// routeKey is the key of a route in the table.
type routeKey struct {
	kind event.Kind
	key  string
}

// WithRouteKey replaces the function that turns the name of a non-HTTP
// event's source into the key of its route, for events of kind k. The name
// is the one k's routes are documented with: an S3 event's bucket (by
// default mapped by [BucketPrefix]; [WithS3RouteKey] is WithRouteKey for
// [event.S3]). Other kinds keep the name as their key unless their
// documentation says otherwise. A nil key restores the default.
//
// Use it when one code base is deployed against sources named per
// environment: the handlers are registered under the stable part of the
// name, and key strips the rest. It runs on every invocation of kind k,
// concurrently with itself; if it panics, the invocation fails like a
// panicking handler.
//
// For [event.EventBridge] the name is the event's source; key maps it,
// and the detail-type is matched as it is, so routes registered with
// source "*" match whatever key returns.
//
// It panics, when the option is applied, if events of kind k are not
// routed by key (HTTP kinds, or a kind the app does not route).
func WithRouteKey(k event.Kind, key func(name string) string) Option {
	return func(o *options) {
		if _, ok := keyedKinds[k]; !ok {
			panic("app: WithRouteKey: " + k.String() + " events are not routed by key")
		}
		if o.routeKeys == nil {
			o.routeKeys = make(map[event.Kind]func(string) string)
		}
		o.routeKeys[k] = key
	}
}

// handle registers h for events of kind k whose route key is key. Like
// [http.ServeMux.Handle], it panics on a programmer's error at setup: a kind
// not routed by key, an empty key, or a (kind, key) registered twice.
func (a *App) handle(k event.Kind, key string, h eventHandler) {
	if _, ok := keyedKinds[k]; !ok {
		panic("app: " + k.String() + " events are not routed by key")
	}
	if key == "" || h == nil {
		panic("app: a " + k.String() + " route needs a key and a handler")
	}
	rk := routeKey{k, key}
	if _, dup := a.routes[rk]; dup {
		if keyedKinds[k].second != nil {
			key = showKey(key)
		}
		panic("app: " + k.String() + " route " + strconv.Quote(key) + " registered twice")
	}
	if a.routes == nil {
		a.routes = make(map[routeKey]eventHandler)
	}
	a.routes[rk] = h
}

// routeKeyOf returns the route key of ev, a keyed kind's event.
func (a *App) routeKeyOf(kk keyedKind, ev *event.Event) (string, error) {
	name, err := kk.source(ev)
	if err != nil {
		return "", err
	}
	key := kk.key
	if f := a.opts.routeKeys[ev.Kind]; f != nil {
		key = f
	}
	if key == nil {
		return name, nil
	}
	return key(name), nil
}

// invokeEvent runs the pipeline of a non-HTTP event: trace and start line,
// then (under recover) route, guard and handler, then the end line.
//
// The policy-information hook does not run: it learns who the caller is
// from an HTTP request, and a non-HTTP event has no caller identity of its
// own to learn from (the AWS service that sent it was allowed by the
// function's resource policy or event source mapping). A check of the
// event's source belongs in the guard, which finds the event with
// [event.FromContext].
func (a *App) invokeEvent(ctx context.Context, ev *event.Event, start time.Time, inv *Invocation) ([]byte, error) {
	log := a.logger()
	ctx = trace.NewContext(ctx, trace.Start(ctx, "", start))
	kind := slog.String("event", kindName(ev.Kind))
	log.LogAttrs(ctx, slog.LevelDebug, "invocation start", kind)
	out, key, err := a.serveEvent(ctx, ev)
	if inv != nil {
		inv.Route = key
	}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "invocation end", kind, slog.String("route", key),
			durationMS(start), slog.String("error", err.Error()))
		return nil, err
	}
	log.LogAttrs(ctx, slog.LevelInfo, "invocation end", kind, slog.String("route", key), durationMS(start))
	return out, nil
}

// serveEvent routes ev, runs the guard and the route's handler. A panic in
// any of them (the route key function is the user's too) fails the
// invocation with an error that names the kind and the step, never the
// panic's value, which is logged with the stack. An event of the Unknown
// kind is a direct invoke, routed to the one route [HandleInvoke] set.
func (a *App) serveEvent(ctx context.Context, ev *event.Event) (out []byte, key string, err error) {
	step := "route key"
	defer func() {
		if v := recover(); v != nil {
			a.logger().LogAttrs(ctx, slog.LevelError, "panic", slog.String("step", step),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			out, err = nil, errors.New("app: internal error in the "+kindName(ev.Kind)+" "+step)
		}
	}()
	h, key, err := a.route(ev)
	if err != nil {
		return nil, key, err
	}
	if prepare := keyedKinds[ev.Kind].prepare; prepare != nil {
		step = "event"
		if err := prepare(ev); err != nil {
			return nil, key, err
		}
	}
	if g := a.opts.guard; g != nil {
		step = "guard"
		if err := g(ctx); err != nil {
			return nil, key, err
		}
	}
	step = "handler"
	out, err = h(ctx, ev)
	return out, key, err
}

// route returns ev's route and the key it was found by.
func (a *App) route(ev *event.Event) (h eventHandler, key string, err error) {
	if ev.Kind == event.Unknown {
		if h, ok := a.routes[invokeRoute]; ok {
			return h, "", nil
		}
		return nil, "", &RouteError{Kind: kindName(ev.Kind)}
	}
	kk, ok := keyedKinds[ev.Kind]
	if !ok {
		return nil, "", &RouteError{Kind: ev.Kind.String()}
	}
	if key, err = a.routeKeyOf(kk, ev); err != nil {
		return nil, key, err
	}
	if kk.second == nil {
		h, ok = a.routes[routeKey{ev.Kind, key}]
	} else {
		h, key, ok = a.lookupTwoPart(ev.Kind, key, kk.second(ev))
	}
	if !ok {
		return nil, key, &RouteError{Kind: ev.Kind.String(), Key: key}
	}
	return h, key, nil
}

// kindName names ev's kind in log lines and errors: a payload of no
// known kind that reached the direct-invoke route is an "invoke".
func kindName(k event.Kind) string {
	if k == event.Unknown {
		return "invoke"
	}
	return k.String()
}

// lookupTwoPart returns the most specific route of kind k for the
// two-part key (first, second) and the key it matched, shown as in logs;
// when none matches, the key shown is the event's own.
func (a *App) lookupTwoPart(k event.Kind, first, second string) (eventHandler, string, bool) {
	for _, rk := range [...]string{
		joinKey(first, second), joinKey(first, wildcard),
		joinKey(wildcard, second), joinKey(wildcard, wildcard),
	} {
		if h, ok := a.routes[routeKey{k, rk}]; ok {
			return h, showKey(rk), true
		}
	}
	return nil, showKey(joinKey(first, second)), false
}

// The direct-invoke route takes the payloads no kind claims: valid JSON
// that [event.Decode] finds of no known kind. It is stored in the route
// table under the Unknown kind and an empty key, so that it runs the same
// pipeline as the keyed kinds. See [HandleInvoke].
var invokeRoute = routeKey{kind: event.Unknown}

// invokeUnknown runs the direct-invoke route for payload, which
// event.Decode rejected with err, if err says the payload is valid JSON of
// no known kind and the app has such a route. Otherwise ok is false and
// the invocation fails with err, as without the route: an empty payload,
// one that is not JSON, and a known kind's malformed event are never
// direct invokes.
func (a *App) invokeUnknown(ctx context.Context, payload []byte, err error, start time.Time, inv *Invocation) (out []byte, ok bool, _ error) {
	if _, has := a.routes[invokeRoute]; !has || !errors.Is(err, event.ErrUnknownKind) {
		return nil, false, nil
	}
	ev := &event.Event{Kind: event.Unknown, Payload: payload}
	if inv != nil {
		inv.Event = ev
	}
	out, err = a.invokeEvent(event.NewContext(ctx, ev), ev, start, inv)
	return out, true, err
}

// oneSource returns the name of the one source that the n records of a
// batch come from: arn(i) is record i's source ARN, whose name arnName
// reads for service and typ. Records of more than one source, or of one
// whose ARN names none, fail with a *RouteError: the route key would
// choose one record's source for the others'.
func oneSource(k event.Kind, n int, arn func(i int) string, service, typ string) (string, error) {
	var names []string
	for i := range n {
		name, _ := arnName(arn(i), service, typ)
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) != 1 || names[0] == "" {
		return "", &RouteError{Kind: k.String(), Sources: names}
	}
	return names[0], nil
}
