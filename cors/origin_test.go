package cors

import (
	"strings"
	"testing"
)

// TestPatternAttacks is the table of origins an attacker could register
// or forge against "https://*.example.com": only subdomains of
// example.com, on https and port 443, match.
func TestPatternAttacks(t *testing.T) {
	p, err := New(Options{AllowedOrigins: []string{"https://*.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		origin string
		want   bool
	}{
		{"https://a.example.com", true},
		{"https://a.b.example.com", true},
		{"https://xn--bcher-kva.example.com", true},
		{"https://a-b_c.example.com", true},
		{"https://1.example.com", true},

		{"https://example.com", false},                                 // the apex
		{"https://.example.com", false},                                // an empty label
		{"https://a..example.com", false},                              // an empty label
		{"https://evil-example.com", false},                            // not a subdomain
		{"https://evilexample.com", false},                             // not a subdomain
		{"https://example.com.evil.io", false},                         // example.com as a subdomain of evil.io
		{"https://a.example.com.evil.io", false},                       // the same, deeper
		{"https://a.example.com.", false},                              // a trailing dot is another origin
		{"http://a.example.com", false},                                // another scheme
		{"wss://a.example.com", false},                                 // another scheme
		{"https://a.example.com:8443", false},                          // another port
		{"https://a.example.com:443", false},                           // not how a browser sends it
		{"https://A.example.com", false},                               // not how a browser sends it
		{"https://a.EXAMPLE.com", false},                               // not how a browser sends it
		{"https://a.example.co", false},                                // another domain
		{"https://a.example.comm", false},                              // another domain
		{"https://evil.io/.example.com", false},                        // a path
		{"https://evil.io?.example.com", false},                        // a query
		{"https://evil.io#.example.com", false},                        // a fragment
		{"https://evil.io@a.example.com", false},                       // user info
		{"https://a.example.com@evil.io", false},                       // user info
		{"https://evil.io:1.example.com", false},                       // a port inside the host
		{"https://evil.io\\.example.com", false},                       // a backslash
		{"https://evil.io%2f.example.com", false},                      // an escape
		{"https://evil.io .example.com", false},                        // a space
		{"https://evil.io\x00.example.com", false},                     // a NUL
		{"https://[::1].example.com", false},                           // an IPv6 literal
		{"https://*.example.com", false},                               // the pattern itself
		{"https://é.example.com", false},                               // not in xn-- form
		{"https:///a.example.com", false},                              // an empty host
		{"https//a.example.com", false},                                // no "://"
		{"null", false},                                                // sandboxed frames
		{"", false},                                                    // empty
		{".example.com", false},                                        // no scheme
		{"https://" + strings.Repeat("a", 64) + ".example.com", false}, // a label over 63 bytes
	} {
		if got := p.allowed(tt.origin); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.origin, got, tt.want)
		}
	}
}

// TestPatternWithPort checks that a pattern's port is part of it.
func TestPatternWithPort(t *testing.T) {
	p, err := New(Options{AllowedOrigins: []string{"http://*.localtest.me:8080", "http://*.example.com:80"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		origin string
		want   bool
	}{
		{"http://a.localtest.me:8080", true},
		{"http://a.localtest.me", false},
		{"http://a.localtest.me:80", false},
		{"http://a.localtest.me:8081", false},
		{"http://a.localtest.me:80800", false},
		{"http://a.example.com", true},
		{"http://a.example.com:80", false},
	} {
		if got := p.allowed(tt.origin); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.origin, got, tt.want)
		}
	}
}

// TestParseOrigin checks the configured origins New accepts, in the form it
// keeps them, and the ones it refuses.
func TestParseOrigin(t *testing.T) {
	for _, tt := range []struct {
		in      string
		origin  string  // "" for a pattern or an error
		pattern pattern // for a pattern
		err     string  // part of the error, "" if none
	}{
		{in: "https://app.example.com", origin: "https://app.example.com"},
		{in: "HTTPS://APP.Example.Com", origin: "https://app.example.com"},
		{in: "https://app.example.com:443", origin: "https://app.example.com"},
		{in: "http://app.example.com:443", origin: "http://app.example.com:443"},
		{in: "wss://app.example.com:443", origin: "wss://app.example.com"},
		{in: "http://localhost:0080", origin: "http://localhost"},
		{in: "http://127.0.0.1:8080", origin: "http://127.0.0.1:8080"},
		{in: "http://[::FFFF:7f00:1]", origin: "http://[::ffff:7f00:1]"},    // browsers write no IPv4 part
		{in: "http://[::ffff:127.0.0.1]", origin: "http://[::ffff:7f00:1]"}, // the same, as browsers send it
		{in: "http://[::ffff:0.0.0.1]", origin: "http://[::ffff:0:1]"},
		{in: "http://[0:0:0:0:0:0:0:1]", origin: "http://[::1]"},
		{in: "http://[2001:DB8:0:0:1:0:0:1]", origin: "http://[2001:db8::1:0:0:1]"}, // the first longest zero run
		{in: "https://*.example.co.uk", pattern: pattern{prefix: "https://", suffix: ".example.co.uk"}},
		{in: "https://*.app.github.io", pattern: pattern{prefix: "https://", suffix: ".app.github.io"}},
		{in: "https://*.notamazonaws.com", pattern: pattern{prefix: "https://", suffix: ".notamazonaws.com"}},
		{in: "https://*.example.io", pattern: pattern{prefix: "https://", suffix: ".example.io"}},
		{in: "http://[2001:DB8::1]:8080", origin: "http://[2001:db8::1]:8080"},
		{in: "capacitor://localhost", origin: "capacitor://localhost"},
		{in: "https://*.example.com", pattern: pattern{"https://", ".example.com"}},
		{in: "https://*.a.example.com:443", pattern: pattern{"https://", ".a.example.com"}},
		{in: "HTTP://*.Example.com:8080", pattern: pattern{"http://", ".example.com:8080"}},

		{in: "", err: "empty origin"},
		{in: "null", err: `"null" is the origin`},
		{in: "app.example.com", err: "scheme://host[:port]"},
		{in: "https://app.example.com/", err: "no path"},
		{in: "https://app.example.com/v1", err: "no path"},
		{in: "https://app.example.com?x", err: "no path"},
		{in: "https://app.example.com#x", err: "no path"},
		{in: "https://u@app.example.com", err: "no path"},
		{in: "https://app.example.com\\", err: "no path"},
		{in: "https://", err: "malformed host"},
		{in: "https://app..example.com", err: "malformed host"},
		{in: "https://app.example.com.", err: "malformed host"},
		{in: "https://app example.com", err: "malformed host"},
		{in: "https://app.example.com:", err: "malformed port"},
		{in: "https://app.example.com:65536", err: "malformed port"},
		{in: "https://app.example.com:-1", err: "malformed port"},
		{in: "https://app.example.com:+1", err: "malformed port"},
		{in: "https://app.example.com:80:80", err: "malformed"},
		{in: "1https://app.example.com", err: "malformed scheme"},
		{in: "*://app.example.com", err: "malformed scheme"},
		{in: "https://[::1", err: "malformed IPv6"},
		{in: "https://[::1]x", err: "malformed host"},
		{in: "https://[fe80::1%25eth0]", err: "malformed IPv6"},
		{in: "https://[127.0.0.1]", err: "malformed IPv6"},
		{in: "https://999.0.0.1", err: "malformed IPv4"},
		// Hosts a browser reads as IPv4 and sends in dotted decimal:
		// refused, not converted.
		{in: "http://0x7f.0.0.1:8080", err: "dotted decimal"},
		{in: "http://0X7F.0.0.1", err: "dotted decimal"},
		{in: "http://0177.0.0.1", err: "dotted decimal"},
		{in: "http://127.1", err: "dotted decimal"},
		{in: "http://2130706433", err: "dotted decimal"},
		{in: "http://0x7f000001", err: "dotted decimal"},
		{in: "http://app.example.0x10", err: "dotted decimal"},
		{in: "http://app.example.123", err: "dotted decimal"},
		{in: "https://*.0x7f.0.0.1", err: "dotted decimal"},
		{in: "https://bücher.example", err: "xn--"},
		{in: "https://*", err: "wildcard"},
		{in: "https://*example.com", err: "wildcard"},
		{in: "https://a.*.example.com", err: "wildcard"},
		{in: "https://*.*.example.com", err: "wildcard"},
		{in: "https://**.example.com", err: "wildcard"},
		{in: "https://*.example.com:*", err: "malformed port"},
		{in: "https://*.", err: "malformed host"},
		{in: "https://*.com", err: "two labels"},
		{in: "https://*.localhost", err: "two labels"},
		{in: "https://*.10.0.0.1", err: "IP address"},
		{in: "https://*.[::1]", err: "malformed"},
	} {
		origin, pat, isPattern, err := parseOrigin(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: got %v, want an error with %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case origin != tt.origin || pat != tt.pattern || isPattern != (tt.origin == ""):
			t.Errorf("%q: got %q %+v %v, want %q %+v", tt.in, origin, pat, isPattern, tt.origin, tt.pattern)
		}
	}
}
