package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
	"github.com/funcify/funcify/idempotency"
	json "github.com/go-json-experiment/json"
)

// statusUpdate is a message of the order-events queue: the new status of
// an order.
type statusUpdate struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// errUnknownOrder fails a status update for an order the store does not
// hold: that message is reported as a failed item, retried by SQS and,
// after the queue's maxReceiveCount, moved to its dead-letter queue.
var errUnknownOrder = errors.New("orders: no such order")

// errMalformed fails a message that is not a status update in JSON. It
// says no more: the decoder's reason could quote the body, and a message's
// content stays out of the logs.
var errMalformed = errors.New(`orders: the message is not a JSON status update {"id": "...", "status": "..."}`)

// handleEvents registers the routes of the function's non-HTTP events:
//
//   - the SQS queue order-events, or its FIFO twin order-events.fifo:
//     each message {"id": "...", "status": "..."} sets an order's status.
//     A malformed message, or one for an unknown order, is a failed item
//     of the batch, reported in batchItemFailures: the event source
//     mapping must have ReportBatchItemFailures on, or Lambda deletes or
//     retries the whole batch. Each message runs once (idempotency.SQS,
//     keyed by its message id, with g): when SQS delivers a message again,
//     one whose update succeeded is skipped, one whose update failed runs
//     again, so a batch that comes back after a partial failure runs only
//     its failed messages.
//   - the EventBridge schedule rule orders.nightly: logs a summary of the
//     orders, by status.
func handleEvents(a *app.App, s *store, g *idempotency.Guard, log *slog.Logger) {
	update := func(ctx context.Context, u statusUpdate) error {
		if u.ID == "" || u.Status == "" {
			return fmt.Errorf("orders: a status update needs a non-empty \"id\" and \"status\"")
		}
		if !s.setStatus(u.ID, u.Status) {
			// Not the id: what a handler returns is logged, and a
			// message's content stays out of the logs.
			return errUnknownOrder
		}
		return nil
	}
	// Keyed by message id on the route "sqs/<queue>": the two queues'
	// records never meet.
	onMessage := idempotency.SQS(g, func(ctx context.Context, m events.SQSMessage) error {
		var u statusUpdate
		err := json.Unmarshal([]byte(m.Body), &u)
		if err != nil {
			err = errMalformed
		} else {
			err = update(ctx, u)
		}
		if err != nil {
			count(ctx, "OrderEventsFailed")
		}
		return err
	})
	app.HandleSQS(a, "order-events", onMessage)
	// The FIFO queue of the same name: handled in order, the first
	// failed message and every later one reported.
	app.HandleSQS(a, "order-events.fifo", onMessage)
	app.HandleSchedule(a, "orders.nightly", func(ctx context.Context, e events.EventBridgeEvent) error {
		orders := s.list()
		byStatus := map[string]int{}
		for _, o := range orders {
			st := o.Status
			if st == "" {
				st = "placed"
			}
			byStatus[st]++
		}
		attrs := []any{slog.Int("orders", len(orders))}
		for st, n := range byStatus {
			attrs = append(attrs, slog.Int("status_"+st, n))
		}
		log.InfoContext(ctx, "nightly summary", attrs...)
		return nil
	})
}
