package dynamostore_test

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
)

// A counter shared by every instance of a function: read, add one,
// compare-and-set, and read again when another instance got there first.
// It needs a DynamoDB table, so it is compiled but not run.
func Example() {
	// Once per cold start. In a function, cfg comes from
	// config.LoadDefaultConfig(ctx) (github.com/aws/aws-sdk-go-v2/config).
	var cfg aws.Config
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), "funcify-state")

	// In each invocation, within its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
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
