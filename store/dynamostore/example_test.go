package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
)

// A counter shared by every instance of a function: read, add one,
// compare-and-set, and read again when another instance got there first.
// It needs a DynamoDB table, so it is compiled but not run.
func Example() {
	// In each invocation, within its deadline. DefaultClient builds the
	// client on the first call and returns it thereafter.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	db, err := dynamostore.DefaultClient(ctx)
	if err != nil {
		return // no AWS configuration in the environment
	}
	s := dynamostore.New(db, "funcify-state")
	for {
		it, err := s.Get(ctx, "counter")
		if err != nil {
			return // DynamoDB is unreachable: carry on with local state
		}
		n, _ := strconv.Atoi(string(it.Value))
		_, err = s.CompareAndSet(ctx, "counter", it.Version, []byte(strconv.Itoa(n+1)), 24*time.Hour)
		if !errors.Is(err, store.ErrConflict) {
			return
		}
	}
}

// The same counter with Add: one UpdateItem, and no conflict however many
// instances count at once. Compiled but not run: it needs a DynamoDB table.
func ExampleStore_Add() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	db, err := dynamostore.DefaultClient(ctx)
	if err != nil {
		return // no AWS configuration in the environment
	}
	s := dynamostore.New(db, "funcify-state")
	if _, err := s.Add(ctx, "counter/"+time.Now().UTC().Format(time.DateOnly), 1, 24*time.Hour); err != nil {
		return // DynamoDB is unreachable: carry on with local state
	}
}

// Claim a job once across instances with Insert: one conditional PutItem,
// which on DynamoDB also returns the item of the instance that claimed it
// first. Compiled but not run: it needs a DynamoDB table.
func ExampleStore_Insert() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	db, err := dynamostore.DefaultClient(ctx)
	if err != nil {
		return // no AWS configuration in the environment
	}
	s := dynamostore.New(db, "funcify-state")
	host, _ := os.Hostname()
	_, cur, err := s.Insert(ctx, "job/nightly-report", []byte(host), time.Hour)
	switch {
	case errors.Is(err, store.ErrConflict):
		fmt.Printf("already claimed by %s\n", cur.Value)
	case err == nil:
		fmt.Println("claimed: running the job")
	}
}
