package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/funcify/funcify/event"
)

// HandleInvoke registers h as the app's direct-invoke route: it takes every
// payload that is valid JSON of no event kind funcify knows (see package
// event), such as a payload of your own sent with the Lambda Invoke API or
// by a Step Functions task. Without it such a payload fails the invocation
// with an [*event.Error] matching [event.ErrUnknownKind], as it does too,
// with or without the route, when it is empty or not JSON at all. A payload
// that has the shape of a known kind is that kind's event and goes to its
// routes instead.
//
// The payload is decoded into an In once, with go-json-experiment
// (github.com/go-json-experiment/json) and its defaults: object member
// names match the Go fields' JSON names case-sensitively, unlike
// encoding/json; unknown members are ignored; duplicate names and invalid
// UTF-8 are errors. An In of [json.RawMessage] gets a copy of the payload
// as it is. A payload that does not decode into In fails the invocation
// with an error naming In, the byte offset and the field, and h does not
// run. h's result is encoded with encoding/json, as aws-lambda-go encodes a
// handler's, and is the invocation's response; its error fails the
// invocation. The invocation runs the pipeline of every non-HTTP event:
// start and end log lines (event "invoke"), the guard, and recover.
//
// It panics if h is nil or the app already has a direct-invoke route.
func HandleInvoke[In, Out any](a *App, h func(ctx context.Context, in In) (Out, error)) {
	if h == nil {
		panic("app: HandleInvoke needs a handler")
	}
	if _, dup := a.routes[invokeRoute]; dup {
		panic("app: HandleInvoke: the direct-invoke route is registered twice")
	}
	if a.routes == nil {
		a.routes = make(map[routeKey]eventHandler)
	}
	a.routes[invokeRoute] = func(ctx context.Context, ev *event.Event) ([]byte, error) {
		var in In
		if raw, ok := any(&in).(*json.RawMessage); ok {
			*raw = bytes.Clone(ev.Payload)
		} else if err := unmarshalTyped("invoke payload", ev.Payload, &in); err != nil {
			return nil, err
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("app: invoke result: %w", err)
		}
		return b, nil
	}
}

// unmarshalTyped decodes data, the JSON text that what names, into v, a
// pointer to a user's type, with go-json-experiment's default options. Its
// error says which value, which type, where and why, and wraps the
// decoder's error (a *json.SemanticError or *jsontext.SyntacticError,
// which carry the offset too).
func unmarshalTyped(what string, data []byte, v any) error {
	err := jsonv2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	msg := "app: " + what + " does not decode into " + reflect.TypeOf(v).Elem().String()
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn):
		msg += " at byte " + strconv.FormatInt(syn.ByteOffset, 10) + ": " + syn.Err.Error()
	case errors.As(err, &sem):
		msg += " at byte " + strconv.FormatInt(sem.ByteOffset, 10)
		if p := fieldPath(string(sem.JSONPointer), reflect.TypeOf(v).Elem()); p != "" {
			msg += ": field " + p
		}
		if sem.JSONKind != 0 && sem.GoType != nil {
			msg += ": cannot use JSON " + jsonKindName(sem.JSONKind) + " as Go " + sem.GoType.String()
		} else if sem.Err != nil {
			msg += ": " + sem.Err.Error()
		}
	default:
		msg += ": " + err.Error()
	}
	return &typedDecodeError{msg: msg, err: err}
}

// jsonKindName names a JSON value's kind as the Go type names it.
func jsonKindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return k.String()
}

// typedDecodeError is unmarshalTyped's error.
type typedDecodeError struct {
	msg string
	err error
}

func (e *typedDecodeError) Error() string { return e.msg }
func (e *typedDecodeError) Unwrap() error { return e.err }

// fieldPath returns the JSON pointer p as far as it names struct fields of
// t, with "*" for a map key or an array index: map keys are data (an
// account, an e-mail address) that a log must not carry, and the error is
// logged.
func fieldPath(p string, t reflect.Type) string {
	if p == "" {
		return ""
	}
	var b strings.Builder
	for tok := range strings.SplitSeq(p[1:], "/") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		b.WriteByte('/')
		switch t.Kind() {
		case reflect.Struct:
			name := strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			f, ok := structField(t, name)
			if !ok {
				b.WriteByte('*')
				return b.String()
			}
			b.WriteString(tok)
			t = f.Type
		case reflect.Map, reflect.Slice, reflect.Array:
			b.WriteByte('*')
			t = t.Elem()
		default:
			b.WriteByte('*')
			return b.String()
		}
	}
	return b.String()
}

// structField finds the field of struct t that the JSON member name takes:
// by its json tag's name, else by its Go name.
func structField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name || (tag == "" && f.Name == name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
