package event

import (
	"bytes"
	"encoding/json"
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
	for _, file := range []string{"apigateway-v1-proxy.json", "apigateway-v2-base64.json", "alb-multi.json", "s3-encoded-keys.json"} {
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
// type, as aws-lambda-go decodes.
func BenchmarkDecodeEncodingJSON(b *testing.B) {
	payload := readFixture(b, "apigateway-v1-proxy.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		var r events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &r); err != nil {
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
