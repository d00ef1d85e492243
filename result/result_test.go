package result_test

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/funcify/funcify/result"
)

var errBoom = errors.New("boom")

func TestConstructors(t *testing.T) {
	tests := []struct {
		name      string
		r         result.Result[int]
		wantValue int
		wantErr   error
	}{
		{"zero", result.Result[int]{}, 0, nil},
		{"Ok", result.Ok(7), 7, nil},
		{"Err", result.Err[int](errBoom), 0, errBoom},
		{"Of/ok", result.Of(3, nil), 3, nil},
		{"Of/err keeps value", result.Of(3, errBoom), 3, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.r.Get()
			if v != tt.wantValue || err != tt.wantErr {
				t.Errorf("Get() = %v, %v, want %v, %v", v, err, tt.wantValue, tt.wantErr)
			}
			if got := tt.r.Value(); got != tt.wantValue {
				t.Errorf("Value() = %v, want %v", got, tt.wantValue)
			}
			if got := tt.r.Err(); got != tt.wantErr {
				t.Errorf("Err() = %v, want %v", got, tt.wantErr)
			}
			if got, want := tt.r.IsOk(), tt.wantErr == nil; got != want {
				t.Errorf("IsOk() = %v, want %v", got, want)
			}
		})
	}
}

func TestErrNil(t *testing.T) {
	r := result.Err[string](nil)
	if r.IsOk() {
		t.Fatalf("Err(nil).IsOk() = true, want false")
	}
	if got, want := r.Err().Error(), "result: Err called with a nil error"; got != want {
		t.Errorf("Err(nil).Err() = %q, want %q", got, want)
	}
}

func TestOrElse(t *testing.T) {
	tests := []struct {
		name string
		r    result.Result[string]
		want string
	}{
		{"ok", result.Ok("value"), "value"},
		{"ok zero", result.Ok(""), ""},
		{"err", result.Err[string](errBoom), "fallback"},
		{"Of err with value", result.Of("partial", errBoom), "fallback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.OrElse("fallback"); got != tt.want {
				t.Errorf("OrElse(%q) = %q, want %q", "fallback", got, tt.want)
			}
		})
	}
}

func TestMap(t *testing.T) {
	calls := 0
	length := func(s string) int { calls++; return len(s) }

	v, err := result.Map(result.Ok("four"), length).Get()
	if v != 4 || err != nil {
		t.Errorf("Map(Ok(%q), len) = %v, %v, want 4, nil", "four", v, err)
	}
	v, err = result.Map(result.Of("partial", errBoom), length).Get()
	if v != 0 || err != errBoom {
		t.Errorf("Map(Err) = %v, %v, want 0, %v", v, err, errBoom)
	}
	if calls != 1 {
		t.Errorf("fn called %d times, want 1 (not for a failed result)", calls)
	}
}

func TestThen(t *testing.T) {
	errOdd := errors.New("odd")
	half := func(n int) (int, error) {
		if n%2 != 0 {
			return 0, errOdd
		}
		return n / 2, nil
	}
	tests := []struct {
		name    string
		in      result.Result[int]
		want    int
		wantErr error
	}{
		{"ok then ok", result.Ok(8), 4, nil},
		{"ok then err", result.Ok(3), 0, errOdd},
		{"err skips fn", result.Err[int](errBoom), 0, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := result.Then(tt.in, half).Get()
			if got != tt.want || err != tt.wantErr {
				t.Errorf("Then() = %v, %v, want %v, %v", got, err, tt.want, tt.wantErr)
			}
			got, err = result.ThenResult(tt.in, func(n int) result.Result[int] {
				return result.Of(half(n))
			}).Get()
			if got != tt.want || err != tt.wantErr {
				t.Errorf("ThenResult() = %v, %v, want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestThenChainStopsAtFirstError(t *testing.T) {
	var steps []string
	step := func(name string, fail bool) func(int) (int, error) {
		return func(n int) (int, error) {
			steps = append(steps, name)
			if fail {
				return 0, errors.New(name + " failed")
			}
			return n + 1, nil
		}
	}
	r := result.Then(result.Then(result.Then(result.Ok(0),
		step("a", false)), step("b", true)), step("c", false))
	if got, want := strings.Join(steps, ","), "a,b"; got != want {
		t.Errorf("steps run = %q, want %q", got, want)
	}
	if got, want := r.Err().Error(), "b failed"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestRecover(t *testing.T) {
	errOther := errors.New("other")
	recoverEOF := func(err error) (string, error) {
		if errors.Is(err, io.EOF) {
			return "default", nil
		}
		return "", errOther
	}
	tests := []struct {
		name    string
		in      result.Result[string]
		want    string
		wantErr error
	}{
		{"ok untouched", result.Ok("value"), "value", nil},
		{"recovered", result.Err[string](io.EOF), "default", nil},
		{"replaced error", result.Err[string](errBoom), "", errOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := result.Recover(tt.in, recoverEOF).Get()
			if got != tt.want || err != tt.wantErr {
				t.Errorf("Recover() = %q, %v, want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

type customErr struct{ code int }

func (e *customErr) Error() string { return "custom" }

func TestTry(t *testing.T) {
	t.Run("returns", func(t *testing.T) {
		got, err := result.Try(func() (int, error) { return 1, nil }).Get()
		if got != 1 || err != nil {
			t.Errorf("Try() = %v, %v, want 1, nil", got, err)
		}
		got, err = result.Try(func() (int, error) { return 2, errBoom }).Get()
		if got != 2 || err != errBoom {
			t.Errorf("Try() = %v, %v, want 2, %v", got, err, errBoom)
		}
	})

	tests := []struct {
		name       string
		fn         func() (int, error)
		wantMsg    string
		wantUnwrap bool
	}{
		{"string", func() (int, error) { panic("bad input") }, "result: panic: bad input", false},
		{"int", func() (int, error) { panic(42) }, "result: panic: 42", false},
		{"error", func() (int, error) { panic(errBoom) }, "result: panic: boom", true},
		{"runtime error", func() (int, error) {
			var m map[string]int
			m["x"] = 1
			return 0, nil
		}, "result: panic: assignment to entry in nil map", true},
		{"nil", func() (int, error) { panic(nil) }, "result: panic: panic called with nil argument", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := result.Try(tt.fn)
			if r.IsOk() {
				t.Fatalf("Try(panicking fn).IsOk() = true, want false")
			}
			var pe *result.PanicError
			if !errors.As(r.Err(), &pe) {
				t.Fatalf("errors.As(%T, *PanicError) = false, want true", r.Err())
			}
			if got := pe.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
			if got := pe.Unwrap() != nil; got != tt.wantUnwrap {
				t.Errorf("Unwrap() != nil is %v, want %v", got, tt.wantUnwrap)
			}
			if !strings.Contains(string(pe.Stack), "result_test.TestTry") {
				t.Errorf("Stack does not name the panicking function:\n%s", pe.Stack)
			}
			if got := r.Value(); got != 0 {
				t.Errorf("Value() = %v, want 0", got)
			}
		})
	}
}

func TestPanicErrorUnwrap(t *testing.T) {
	ce := &customErr{code: 7}
	err := result.Try(func() (string, error) { panic(ce) }).Err()
	if !errors.Is(err, ce) {
		t.Errorf("errors.Is(err, panic value) = false, want true")
	}
	var got *customErr
	if !errors.As(err, &got) || got.code != 7 {
		t.Errorf("errors.As(err, *customErr) = %v, want the panic value", got)
	}
	var rt runtime.Error
	err = result.Try(func() (int, error) {
		var p *struct{ x int }
		return p.x, nil
	}).Err()
	if !errors.As(err, &rt) {
		t.Errorf("errors.As(nil dereference, runtime.Error) = false, want true")
	}
	pe := &result.PanicError{Value: "not an error"}
	if got := pe.Unwrap(); got != nil {
		t.Errorf("Unwrap() = %v, want nil for a non-error panic value", got)
	}
}

func TestRun(t *testing.T) {
	if err := result.Run(func() error { return nil }); err != nil {
		t.Errorf("Run(ok) = %v, want nil", err)
	}
	if err := result.Run(func() error { return errBoom }); err != errBoom {
		t.Errorf("Run(err) = %v, want %v", err, errBoom)
	}
	err := result.Run(func() error { panic(errBoom) })
	var pe *result.PanicError
	if !errors.As(err, &pe) || pe.Value != errBoom {
		t.Fatalf("Run(panic) = %v, want a *PanicError holding %v", err, errBoom)
	}
	if !errors.Is(err, errBoom) {
		t.Errorf("errors.Is(Run(panic(errBoom)), errBoom) = false, want true")
	}
}

// TestTryGoexit checks that Try does not swallow runtime.Goexit, which
// t.FailNow and t.Skip rely on.
func TestTryGoexit(t *testing.T) {
	var wg sync.WaitGroup
	returned := false
	wg.Add(1)
	go func() {
		defer wg.Done()
		result.Try(func() (int, error) {
			runtime.Goexit()
			return 0, nil
		})
		returned = true
	}()
	wg.Wait()
	if returned {
		t.Errorf("Try returned after runtime.Goexit, want the goroutine to exit")
	}
}

func TestConcurrentUse(t *testing.T) {
	r := result.Ok(21)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := result.Map(r, func(n int) int { return n * 2 }).Get()
			if got != 42 || err != nil {
				t.Errorf("Map() = %v, %v, want 42, nil", got, err)
			}
		})
	}
	wg.Wait()
}

func BenchmarkThen(b *testing.B) {
	double := func(n int) (int, error) { return n * 2, nil }
	for b.Loop() {
		r := result.Then(result.Then(result.Ok(1), double), double)
		if r.Value() != 4 {
			b.Fatal("wrong value")
		}
	}
}

func BenchmarkTry(b *testing.B) {
	fn := func() (int, error) { return 1, nil }
	for b.Loop() {
		if !result.Try(fn).IsOk() {
			b.Fatal("not ok")
		}
	}
}
