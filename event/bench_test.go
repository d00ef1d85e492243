package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func BenchmarkSniff(b *testing.B) {
	payload := readFixture(b, "apigateway-v1-proxy.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := Sniff(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, file := range []string{"apigateway-v1-proxy.json", "apigateway-v2-base64.json", "alb-multi.json", "s3-encoded-keys.json",
		"sqs-batch-10.json", "eventbridge.json"} {
		payload := readFixture(b, file)
		b.Run(file, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := Decode(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeEncodingJSON is the baseline: encoding/json into the same
// type, as aws-lambda-go decodes. Its sub-benchmarks are named after
// BenchmarkDecode's.
func BenchmarkDecodeEncodingJSON(b *testing.B) {
	b.Run("apigateway-v1-proxy.json", benchEncodingJSON[events.APIGatewayProxyRequest])
	b.Run("sqs-batch-10.json", benchEncodingJSON[events.SQSEvent])
	b.Run("eventbridge.json", benchEncodingJSON[events.EventBridgeEvent])
}

func benchEncodingJSON[T any](b *testing.B) {
	_, file, _ := strings.Cut(b.Name(), "/")
	payload := readFixture(b, file)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		var v T
		if err := json.Unmarshal(payload, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSniffCompact(b *testing.B) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, readFixture(b, "apigateway-v1-proxy.json")); err != nil {
		b.Fatal(err)
	}
	payload := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := Sniff(payload); err != nil {
			b.Fatal(err)
		}
	}
}
