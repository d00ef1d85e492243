package result_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/funcify/funcify/result"
)

// parsePort composes three steps; the first failure stops the chain.
func parsePort(s string) (int, error) {
	return result.Then(
		result.Of(strconv.Atoi(strings.TrimSpace(s))),
		func(n int) (int, error) {
			if n < 1 || n > 65535 {
				return 0, fmt.Errorf("port %d out of range", n)
			}
			return n, nil
		},
	).Get()
}

func Example() {
	for _, s := range []string{" 8080 ", "70000", "http"} {
		port, err := parsePort(s)
		fmt.Println(port, err)
	}
	// Output:
	// 8080 <nil>
	// 0 port 70000 out of range
	// 0 strconv.Atoi: parsing "http": invalid syntax
}

func ExampleOk() {
	r := result.Ok("ready")
	fmt.Println(r.IsOk(), r.Value())
	// Output: true ready
}

func ExampleErr() {
	r := result.Err[int](errors.New("no such user"))
	fmt.Println(r.IsOk(), r.Err())
	// Output: false no such user
}

func ExampleOf() {
	r := result.Of(strconv.ParseBool("yes"))
	fmt.Println(r.Err())
	// Output: strconv.ParseBool: parsing "yes": invalid syntax
}

func ExampleResult_Get() {
	n, err := result.Of(strconv.Atoi("42")).Get()
	fmt.Println(n, err)
	// Output: 42 <nil>
}

func ExampleResult_IsOk() {
	fmt.Println(result.Ok(1).IsOk(), result.Err[int](fs.ErrNotExist).IsOk())
	// Output: true false
}

func ExampleResult_Value() {
	fmt.Println(result.Ok(3.5).Value())
	fmt.Println(result.Err[float64](fs.ErrNotExist).Value())
	// Output:
	// 3.5
	// 0
}

func ExampleResult_Err() {
	r := result.Err[[]byte](fs.ErrNotExist)
	fmt.Println(errors.Is(r.Err(), fs.ErrNotExist))
	// Output: true
}

func ExampleResult_OrElse() {
	timeout := result.Of(strconv.Atoi("")).OrElse(30)
	fmt.Println(timeout)
	// Output: 30
}

func ExampleMap() {
	r := result.Map(result.Ok("lambda"), strings.ToUpper)
	fmt.Println(r.Value())
	// Output: LAMBDA
}

func ExampleThen() {
	r := result.Then(result.Ok("12"), strconv.Atoi)
	fmt.Println(r.Get())
	// Output: 12 <nil>
}

func ExampleThenResult() {
	nonEmpty := func(s string) result.Result[string] {
		if s == "" {
			return result.Err[string](errors.New("empty name"))
		}
		return result.Ok(s)
	}
	fmt.Println(result.ThenResult(result.Ok(""), nonEmpty).Err())
	// Output: empty name
}

func ExampleRecover() {
	r := result.Recover(result.Err[string](fs.ErrNotExist), func(err error) (string, error) {
		if errors.Is(err, fs.ErrNotExist) {
			return "default config", nil
		}
		return "", err
	})
	fmt.Println(r.Get())
	// Output: default config <nil>
}

func ExampleTry() {
	r := result.Try(func() (int, error) {
		var counts map[string]int
		counts["x"]++ // panics: nil map
		return counts["x"], nil
	})
	var pe *result.PanicError
	fmt.Println(errors.As(r.Err(), &pe))
	fmt.Println(r.Err())
	// Output:
	// true
	// result: panic: assignment to entry in nil map
}

func ExampleRun() {
	err := result.Run(func() error {
		panic("unreachable state")
	})
	fmt.Println(err)
	// Output: result: panic: unreachable state
}

func ExamplePanicError() {
	errQuota := errors.New("quota exceeded")
	err := result.Run(func() error { panic(errQuota) })

	var pe *result.PanicError
	if errors.As(err, &pe) {
		fmt.Println("panic value:", pe.Value)
		fmt.Println("has stack:", len(pe.Stack) > 0)
	}
	fmt.Println("is errQuota:", errors.Is(err, errQuota))
	// Output:
	// panic value: quota exceeded
	// has stack: true
	// is errQuota: true
}
