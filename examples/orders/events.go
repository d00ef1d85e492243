package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/app"
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

// handleEvents registers the routes of the function's non-HTTP events:
//
//   - the SQS queue order-events, or its FIFO twin order-events.fifo:
//     each message {"id": "...", "status": "..."} sets an order's status.
//     A malformed message, or one for an unknown order, is a failed item
//     of the batch, reported in batchItemFailures: the event source
//     mapping must have ReportBatchItemFailures on, or Lambda deletes or
//     retries the whole batch.
//   - the EventBridge schedule rule orders.nightly: logs a summary of the
//     orders, by status.
func handleEvents(a *app.App, s *store, log *slog.Logger) {
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
	app.HandleSQSJSON(a, "order-events", update)
	// The FIFO queue of the same name: handled in order, the first
	// failed message and every later one reported.
	app.HandleSQSJSON(a, "order-events.fifo", update)
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
