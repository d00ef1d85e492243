package redact

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://idp.example.com/jwks", "https://idp.example.com/jwks"},
		{"https://idp.example.com/jwks?api_key=s3cret", "https://idp.example.com/jwks"},
		{"https://idp.example.com/jwks?", "https://idp.example.com/jwks"},
		{"https://user:pw@idp.example.com/jwks", "https://idp.example.com/jwks"},
		{"https://idp.example.com/a%2Fb?x=1#frag", "https://idp.example.com/a%2Fb"},
		{"http://[::1]:8080/p?q", "http://[::1]:8080/p"},
		{"://nope?api_key=s3cret", "(invalid URL)"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// refused returns the error of a GET on a port nobody listens on, as
// http.Client.Do returns it.
func refused(t *testing.T, query string) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	resp, err := http.Get("http://user:pw@" + addr + "/jwks?" + query)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a closed port answered")
	}
	return err
}

func TestError(t *testing.T) {
	err := refused(t, "api_key=s3cret")
	if !strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("net/http's error no longer names the query (%v): this test tests nothing", err)
	}
	got := Error(err)
	for _, secret := range []string{"s3cret", "api_key", "user", "pw"} {
		if strings.Contains(got.Error(), secret) {
			t.Errorf("Error(...) = %q, shows %q", got, secret)
		}
	}
	if !strings.Contains(got.Error(), "/jwks") || !strings.Contains(got.Error(), "connection refused") {
		t.Errorf("Error(...) = %q, want the path and the cause kept", got)
	}
	if !errors.Is(got, syscall.ECONNREFUSED) {
		t.Errorf("Error(...) lost the cause from its chain: %v", got)
	}
	var ue *url.Error
	if !errors.As(got, &ue) || ue.Op != "Get" {
		t.Errorf("Error(...) is %T, want a *url.Error with Op Get", got)
	}
	plain := errors.New("no URL here")
	if Error(plain) != plain {
		t.Error("Error changed an error without a URL")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}

func TestErrorKeepsTimeout(t *testing.T) {
	err := &url.Error{Op: "Get", URL: "https://x.example/?k=v", Err: context.DeadlineExceeded}
	var ne net.Error
	if !errors.As(Error(err), &ne) || !ne.Timeout() {
		t.Error("the redacted error no longer reports a timeout")
	}
}

func TestText(t *testing.T) {
	inner := refused(t, "api_key=s3cret&x=1")
	wrapped := fmt.Errorf("jwtauth: keys unavailable: %w", inner)
	joined := errors.Join(errors.New("first"), fmt.Errorf("second: %w", refused(t, "token=abc")))
	for _, err := range []error{inner, wrapped, joined} {
		got := Text(err)
		for _, secret := range []string{"s3cret", "api_key", "token=abc", "pw@"} {
			if strings.Contains(got, secret) {
				t.Errorf("Text(...) = %q, shows %q", got, secret)
			}
		}
		if !strings.Contains(got, "/jwks") || !strings.Contains(got, "connection refused") {
			t.Errorf("Text(...) = %q, want the path and the cause kept", got)
		}
	}
	if got := Text(wrapped); !strings.HasPrefix(got, "jwtauth: keys unavailable: Get ") {
		t.Errorf("Text(...) = %q, want the wrapping text kept", got)
	}
	if Text(nil) != "" {
		t.Error("Text(nil) is not empty")
	}
}

// Text finds a URL in an error's text in both of its forms: quoted, as a
// *url.Error writes it (with escapes when the URL holds a quote or a
// backslash), and bare, as a wrapping message may repeat it.
func TestTextBothForms(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		// The quoted form differs from the bare URL inside its quotes:
		// only the replacement of the quoted form finds it.
		{"quoted with escapes", &url.Error{Op: "Get", URL: `https://idp.example.com/jwks?api_key=s3cret"x`, Err: syscall.ECONNREFUSED}},
		// The URL also appears bare, outside the *url.Error's quotes:
		// only the replacement of the bare form finds that one.
		{"bare in a wrapping message", fmt.Errorf("fetching https://idp.example.com/jwks?api_key=s3cret: %w",
			&url.Error{Op: "Get", URL: "https://idp.example.com/jwks?api_key=s3cret", Err: syscall.ECONNREFUSED})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.err.Error(), "s3cret") {
				t.Fatalf("the error does not show the secret (%v): this test tests nothing", tt.err)
			}
			got := Text(tt.err)
			if strings.Contains(got, "s3cret") || strings.Contains(got, "api_key") {
				t.Errorf("Text(...) = %q, shows the query", got)
			}
			if !strings.Contains(got, "https://idp.example.com/jwks") {
				t.Errorf("Text(...) = %q, want the URL's host and path kept", got)
			}
		})
	}
}
