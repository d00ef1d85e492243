package window_test

import (
	"fmt"
	"time"

	"github.com/funcify/funcify/window"
)

func ExampleDecide() {
	expiry := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := window.Settings{} // 1 h wide, ending 1 h before the expiry
	draw := func() float64 { return 0.5 }
	for _, left := range []time.Duration{3 * time.Hour, 105 * time.Minute, 75 * time.Minute, 65 * time.Minute, time.Hour} {
		fmt.Println(left, window.Decide(expiry.Add(-left), expiry, s, draw))
	}
	// Output:
	// 3h0m0s keep
	// 1h45m0s keep
	// 1h15m0s refresh
	// 1h5m0s refresh
	// 1h0m0s refresh
}

func ExampleAt() {
	expiry := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	// An instance that drew 0.25 for this token refreshes a quarter of the
	// way into the window.
	fmt.Println(window.At(expiry, window.Settings{}, 0.25).Format(time.TimeOnly))
	// Output:
	// 10:14:57
}

func ExampleSettings_Fit() {
	// The default window does not fit a 10-minute token: scale it.
	fmt.Printf("%+v\n", window.Settings{}.Fit(10*time.Minute))
	// Output:
	// {Width:2m30s Threshold:2m30s}
}
