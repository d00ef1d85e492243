package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestLoadEventOrderIDs checks that invocation n of v1 and v2 asks for
// order n in every place the fixture names its order, and is otherwise the
// fixture.
func TestLoadEventOrderIDs(t *testing.T) {
	tests := []struct {
		name, file string
		// decode returns the paths and the id path parameter the payload
		// names.
		decode func(payload []byte) ([]string, string, error)
	}{
		{"v1", "rest_v1.json", func(payload []byte) ([]string, string, error) {
			var e events.APIGatewayProxyRequest
			err := json.Unmarshal(payload, &e)
			return []string{e.Path, strings.TrimPrefix(e.RequestContext.Path, "/prod")}, e.PathParameters["id"], err
		}},
		{"v2", "http_v2.json", func(payload []byte) ([]string, string, error) {
			var e events.APIGatewayV2HTTPRequest
			err := json.Unmarshal(payload, &e)
			return []string{e.RawPath, e.RequestContext.HTTP.Path}, e.PathParameters["id"], err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := loadEvent("../testdata", tt.name)
			if err != nil {
				t.Fatal(err)
			}
			fixture, err := os.ReadFile("../testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.payload(42); !bytes.Equal(got, fixture) {
				t.Errorf("payload(42) is not the fixture:\n%s", got)
			}
			for _, n := range []int{1, 2, 999, 5500} {
				id := strconv.Itoa(n)
				paths, param, err := tt.decode(ev.payload(n))
				if err != nil {
					t.Fatalf("payload(%d): %v", n, err)
				}
				for _, p := range paths {
					if p != "/orders/"+id {
						t.Errorf("payload(%d): path %q, want /orders/%s", n, p, id)
					}
				}
				if param != id {
					t.Errorf("payload(%d): pathParameters.id %q, want %q", n, param, id)
				}
			}
		})
	}
}

func TestOrderTemplate(t *testing.T) {
	tests := []struct {
		name, fixture string
		wantErr       string // "" for none
	}{
		{"three sites", `{"path":"/orders/42","p":"/x/orders/42","pathParameters":{"id": "42"}}`, ""},
		{"the id elsewhere is kept", `{"path":"/orders/42","p":"/orders/42","x":"42","pathParameters":{"id": "42"}}`, ""},
		{"no id", `{"path":"/orders/7"}`, "named in 0 places"},
		{"no path parameter", `{"path":"/orders/42","p":"/orders/42"}`, "named in 2 places"},
		{"a NUL", "{\"path\":\"/orders/42\x00\"}", "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := orderTemplate([]byte(tt.fixture))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("orderTemplate = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(bytes.Join(parts, []byte("42"))); got != tt.fixture {
				t.Errorf("joined with 42: got %s, want %s", got, tt.fixture)
			}
			if got := bytes.Count(bytes.Join(parts, []byte("7")), []byte("42")); got != strings.Count(tt.fixture, "42")-3 {
				t.Errorf("joined with 7: %d of 42 left, want %d", got, strings.Count(tt.fixture, "42")-3)
			}
		})
	}
}
