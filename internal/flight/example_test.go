package flight_test

import (
	"context"
	"fmt"

	"github.com/funcify/funcify/internal/flight"
)

func ExampleGroup_Do() {
	var g flight.Group[string]
	v, shared, err := g.Do(context.Background(), "jwks", func(ctx context.Context) (string, error) {
		return "fetched once", nil // concurrent callers of "jwks" share this run
	})
	fmt.Println(v, err, shared)
	// Output: fetched once <nil> false
}
