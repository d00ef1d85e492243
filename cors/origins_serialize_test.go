package cors

import "testing"

// TestConfiguredOriginBrowsersSerialize: a configured origin must be one
// a browser can send. An IPv4-mapped IPv6 address is serialized by
// browsers in hex pieces ([::ffff:7f00:1], WHATWG URL's IPv6 serializer),
// so "[::ffff:127.0.0.1]" is put in that form; a host that browsers read
// as IPv4 in another notation ("0x7f.0.0.1", sent as 127.0.0.1) is
// refused, not taken as a name that would never match.
func TestConfiguredOriginBrowsersSerialize(t *testing.T) {
	for _, tc := range []struct{ configured, browser string }{
		{"http://[::ffff:127.0.0.1]:8080", "http://[::ffff:7f00:1]:8080"},
		{"http://[::FFFF:7F00:1]:8080", "http://[::ffff:7f00:1]:8080"},
		{"http://0x7f.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.1:8080", "http://127.0.0.1:8080"},
	} {
		p, err := New(Options{AllowedOrigins: []string{tc.configured}})
		if err != nil {
			continue // refusing it is fine too
		}
		if !p.allowed(tc.browser) {
			t.Errorf("New(%q) accepted, but the Origin a browser sends for it, %q, is not allowed", tc.configured, tc.browser)
		}
	}
	// What the doc promises: hex pieces are serialized, other IPv4
	// notations refused.
	if _, err := New(Options{AllowedOrigins: []string{"http://[::ffff:127.0.0.1]:8080"}}); err != nil {
		t.Errorf("New([::ffff:127.0.0.1]): %v, want it accepted and serialized", err)
	}
	if _, err := New(Options{AllowedOrigins: []string{"http://0x7f.0.0.1:8080"}}); err == nil {
		t.Error("New(0x7f.0.0.1): accepted, want it refused (browsers send 127.0.0.1)")
	}
}
