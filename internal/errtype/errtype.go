// Package errtype names a Go value's type as the Lambda runtime names a
// function error's errorType (aws-lambda-go's lambda.Start, and funcify's
// runtimeapi): runtimeapi reports errors by it, and idempotency stores it
// with a final error so that a replay is reported under the same name.
package errtype

import "reflect"

// Name names v's type without its package, dereferencing one pointer:
// "errorString" for errors.New's errors, "nil" for nil.
func Name(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "nil"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n := t.Name(); n != "" {
		return n
	}
	return t.String()
}
