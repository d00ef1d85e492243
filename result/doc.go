// Package result holds the outcome of a step that either produced a value or
// failed, for callers who compose pipeline steps.
//
// The Go calling convention stays (T, error) with an early return; funcify's
// own packages use it, and so should most code. A [Result] helps when a
// sequence of steps is easier to read as a chain of functions: each step runs
// only if the previous one succeeded, and the first error is carried to the
// end.
//
//	r := result.Then(result.Of(strconv.Atoi(s)), checkPositive)
//	n, err := r.Get()
//
// # Building results
//
// [Ok] and [Err] make a successful and a failed result, [Of] adapts the return
// values of a (T, error) function, and [Try] calls a function and turns a
// panic in it into a [*PanicError]. [Run] does the same for a function that
// returns only an error.
//
// # Composing steps
//
// [Map] applies a function that cannot fail, [Then] one that returns
// (U, error), and [ThenResult] one that returns a Result. [Recover] turns a
// failure back into a value. Each is a function rather than a method because
// Go methods cannot introduce type parameters.
//
// # Example
//
//	func parsePort(s string) (int, error) {
//		return result.Then(
//			result.Of(strconv.Atoi(strings.TrimSpace(s))),
//			func(n int) (int, error) {
//				if n < 1 || n > 65535 {
//					return 0, fmt.Errorf("port %d out of range", n)
//				}
//				return n, nil
//			},
//		).Get()
//	}
//
// A Result is an immutable value: it is safe to copy and to share between
// goroutines as long as the T it holds is.
package result
