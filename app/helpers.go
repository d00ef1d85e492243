package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// JSON answers with status and v encoded as JSON. If v cannot be encoded it
// answers with a 500 envelope instead and logs why.
func JSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		WriteError(w, r, &Error{Status: http.StatusInternalServerError, Message: "internal error", Step: "respond", Err: err})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
}

// MaxBodyBytes is the largest request body [DecodeJSON] reads: Lambda's own
// limit on a synchronous invocation's payload.
const MaxBodyBytes = 6 << 20

// Validator is implemented by request types that check themselves after
// decoding; [DecodeJSON] calls Validate and answers 400 with its error's
// text, so that text must be fit for the caller.
type Validator interface {
	Validate() error
}

// DecodeJSON decodes the request body, one JSON value, into a new T, and
// validates it if T (or *T) implements [Validator]. Every failure is an
// [*Error] with status 400 (413 for a body over [MaxBodyBytes]) and step
// "parse", ready for [WriteError].
func DecodeJSON[T any](r *http.Request) (T, error) {
	var v T
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return v, &Error{Status: http.StatusBadRequest, Message: "cannot read the request body", Step: "parse", Err: err}
	}
	if len(body) > MaxBodyBytes {
		return v, &Error{Status: http.StatusRequestEntityTooLarge, Message: "request body too large", Step: "parse"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return v, &Error{Status: http.StatusBadRequest, Message: "request body is empty", Step: "parse"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&v); err != nil {
		return v, &Error{Status: http.StatusBadRequest, Message: "malformed JSON body: " + describeJSONError(err), Step: "parse", Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, &Error{Status: http.StatusBadRequest, Message: "malformed JSON body: more than one value", Step: "parse"}
	}
	var val Validator
	switch x := any(&v).(type) {
	case Validator:
		val = x
	default:
		if y, ok := any(v).(Validator); ok {
			val = y
		}
	}
	if val != nil {
		if err := val.Validate(); err != nil {
			return v, &Error{Status: http.StatusBadRequest, Message: "invalid request: " + err.Error(), Step: "parse", Err: err}
		}
	}
	return v, nil
}

// describeJSONError says what is wrong with a body in terms of the body, not
// of Go types.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return "field " + strconv.Quote(typ.Field) + " cannot be a JSON " + typ.Value
		}
		return "the body cannot be a JSON " + typ.Value
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of the body"
	}
	return "not valid JSON"
}
