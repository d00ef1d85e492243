package idempotency_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/store/memstore"
)

type Receipt struct {
	OrderID string `json:"order_id"`
	Charged int64  `json:"charged"`
}

func ExampleDo() {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: "payments"})
	charges := 0
	charge := func(ctx context.Context) (Receipt, error) {
		charges++ // the side effect to run once
		return Receipt{OrderID: "o-1", Charged: 1250}, nil
	}
	ctx := context.Background()
	// The same message delivered twice: one charge, the same receipt.
	for range 2 {
		key := idempotency.NewKey("charge", "msg-42", []byte(`{"order":"o-1"}`))
		r, err := idempotency.Do(ctx, g, key, charge)
		fmt.Println(r, err)
	}
	fmt.Println("charges:", charges)
	// Output:
	// {o-1 1250} <nil>
	// {o-1 1250} <nil>
	// charges: 1
}

func ExampleNew() {
	g, err := idempotency.New(idempotency.Config{
		Store:        memstore.New(), // dynamostore or redisstore across instances
		Wait:         true,           // duplicates wait for the first call's result
		CheckPayload: true,           // a reused key with another payload is refused
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	create := func(ctx context.Context) (string, error) { return "created", nil }
	_, err = idempotency.Do(ctx, g, idempotency.NewKey("POST /orders", "key-1", []byte(`{"qty":1}`)), create)
	fmt.Println(err)
	_, err = idempotency.Do(ctx, g, idempotency.NewKey("POST /orders", "key-1", []byte(`{"qty":2}`)), create)
	fmt.Println(err, errors.Is(err, idempotency.ErrPayloadMismatch))
	// Output:
	// <nil>
	// idempotency: the key was used with another payload true
}

func ExampleKeyFromJSON() {
	a, _ := idempotency.KeyFromJSON("order-events", []byte(`{"order": {"id": "o-1", "total": 12.50}}`), "/order/id")
	b, _ := idempotency.KeyFromJSON("order-events", []byte(`{"order":{"total":1.25e1,"id":"o-1"}}`), "/order/id")
	fmt.Println(a == b)
	_, err := idempotency.KeyFromJSON("order-events", []byte(`{"order":{}}`), "/order/id")
	fmt.Println(err)
	// Output:
	// true
	// idempotency: key from JSON: canonjson: pointer "/order/id" does not resolve
}

func ExampleFinal() {
	g, _ := idempotency.New(idempotency.Config{Store: memstore.New()})
	errNoStock := errors.New("out of stock: A-1")
	reserve := func(ctx context.Context) (string, error) {
		return "", idempotency.Final(errNoStock) // a retry would only repeat it
	}
	key := idempotency.NewKey("reserve", "order-7", nil)
	_, err := idempotency.Do(context.Background(), g, key, reserve)
	fmt.Println(err, errors.Is(err, errNoStock))
	_, err = idempotency.Do(context.Background(), g, key, reserve)
	var replayed *idempotency.ReplayedError
	fmt.Println(err, errors.As(err, &replayed))
	// Output:
	// out of stock: A-1 true
	// out of stock: A-1 true
}
