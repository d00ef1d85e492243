package attempt_test

import (
	"context"
	"fmt"
	"time"

	"github.com/funcify/funcify/internal/attempt"
)

func ExampleBound() {
	now := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(4*time.Second))
	defer cancel()
	fmt.Println(attempt.Bound(ctx, now, 10*time.Second))
	// Output: 3s
}
