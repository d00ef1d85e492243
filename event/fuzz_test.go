package event

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzDecode checks that no payload panics Sniff or Decode, that both agree
// on the kind, that at most one kind's matcher accepts a payload, that every
// failure is a typed *Error, that the kind does not change with escapes or
// member order, and that the scanner never loses its way in a valid JSON
// object.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, dir := range []string{"unhandled", "powertools"} {
		more, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		files = append(files, more...)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "{}", "[]", `{"Records":[{"eventSource":"aws:s3"},1]}`, `{"a":"\"}"}`, `{"version":"2.0","requestContext":{"http":{}}}`,
		`{"Records":[{"eventSource":"aws:sqs","body":"{\"Records\":[{\"eventSource\":\"aws:s3\"}]}"}]}`,
		`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"m"}}]}`,
		`{"Records":[{"eventSource":"aws:dynamodb","dynamodb":{"Keys":{"pk":{"S":"a"}}}}],"window":{}}`,
		`{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"aGk="}}]}`,
		`{"source":"aws.s3","detail-type":"Object Created","detail":{}}`,
		`{"source":"aws.events","detail-type":"Scheduled Event","detail":{},"resources":["arn:aws:events:eu-west-1:1:rule/r"]}`,
		`{"source":"aws.cloudwatch","alarmData":{}}`,
		`{"Records":[{"eventSource":"aws:sqs"}],"source":"a","detail-type":"b","detail":{},"httpMethod":"GET","path":"/","version":"2.0","requestContext":{"http":{}}}`} {
		f.Add([]byte(s))
	}
	for _, tt := range escapedEvents {
		f.Add([]byte(tt.payload))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if ks := matchingKinds(payload); len(ks) > 1 {
			t.Fatalf("matched by %v: %q", ks, payload)
		}
		k, sniffErr := Sniff(payload)
		// The kind does not depend on spelling or order: the canonical
		// form of a valid object (escapes resolved, members sorted) is of
		// the same kind.
		canon := jsontext.Value(bytes.Clone(payload))
		if canon.Canonicalize() == nil {
			if kc, _ := Sniff(canon); kc != k {
				t.Fatalf("Sniff = %v, but %v for the canonical form %s", k, kc, canon)
			}
		}
		ev, err := Decode(payload)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKind) {
				t.Fatalf("error %v matches no sentinel", err)
			}
			if sniffErr == nil && k == Unknown {
				t.Fatalf("Sniff accepted an unknown kind")
			}
			return
		}
		if sniffErr != nil || ev.Kind != k {
			t.Fatalf("Sniff said %v, %v; Decode said %v", k, sniffErr, ev.Kind)
		}
		if !jsontext.Value(payload).IsValid(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)) {
			t.Fatalf("Decode accepted invalid JSON %q", payload)
		}
		sig := getSignature()
		defer putSignature(sig)
		if !scan(payload, sig) {
			t.Fatalf("scanner lost its way in valid JSON %q", payload)
		}
	})
}
