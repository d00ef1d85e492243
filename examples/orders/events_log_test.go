package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/funcify/funcify/app"
)

// The example's update handler returns fmt.Errorf("%w: %q", errUnknownOrder,
// u.ID), and app logs a failed record's error: the id taken from the
// message body lands in the log, against "logged with its message id
// (never its body)". An example users copy should show the pattern that
// keeps bodies out of logs.
func TestOrderEventsLogNoBodyContent(t *testing.T) {
	var logs bytes.Buffer
	s := newStore()
	a := newApp(s, app.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	out := invokeOrders(t, a, sqsBatch(ordersQueueARN, `{"id":"cust-4111111111111111","status":"shipped"}`))
	if got := failures(t, out); len(got) != 1 || got[0] != "m0" {
		t.Fatalf("failures %q, want [m0]", got)
	}
	if l := logs.String(); strings.Contains(l, "4111111111111111") {
		t.Errorf("the log holds content of the message body:\n%s", l)
	}
}
