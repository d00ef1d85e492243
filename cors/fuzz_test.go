package cors

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzOriginMatch checks that an Origin the policy allows is one of its
// exact origins or, as net/url reads it, a bare scheme://host[:port]
// whose host is a strict subdomain of a pattern's, with its scheme and
// port.
func FuzzOriginMatch(f *testing.F) {
	for _, s := range []string{
		"https://a.example.com", "https://a.b.example.com", "https://example.com", "https://evil-example.com",
		"https://example.com.evil.io", "http://a.example.com", "http://a.example.com:8080", "https://a.example.com:443",
		"https://app.example.org", "https://app.example.org:443", "null", "", "https://evil.io@a.example.com",
		"https://evil.io/.example.com", "https://evil.io:1.example.com", "https://[::1].example.com", "https://A.example.com",
	} {
		f.Add(s)
	}
	p, err := New(Options{AllowedOrigins: []string{"https://*.example.com", "http://*.example.com:8080", "https://app.example.org"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if !p.allowed(origin) {
			return
		}
		if origin == "https://app.example.org" {
			return
		}
		u, err := url.Parse(origin)
		if err != nil {
			t.Fatalf("%q allowed, but net/url: %v", origin, err)
		}
		if u.User != nil || u.Opaque != "" || u.RawPath != "" || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			t.Fatalf("%q allowed, but it is not a bare origin: %#v", origin, u)
		}
		if u.Scheme+"://"+u.Host != origin {
			t.Fatalf("%q allowed, but net/url reads it as %s://%s", origin, u.Scheme, u.Host)
		}
		host := u.Hostname()
		if host != strings.ToLower(host) || !strings.HasSuffix(host, ".example.com") || len(host) <= len(".example.com") {
			t.Fatalf("%q allowed, but its host %q is not a subdomain of example.com", origin, host)
		}
		switch {
		case u.Scheme == "https" && u.Port() == "":
		case u.Scheme == "http" && u.Port() == "8080":
		default:
			t.Fatalf("%q allowed with scheme %q and port %q", origin, u.Scheme, u.Port())
		}
	})
}

// FuzzParseOrigin checks that what New accepts as an origin is one that
// net/url reads back unchanged and that New reads back to itself, and
// that a pattern matches a subdomain but never its own host.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com", "HTTPS://App.Example.com:443", "http://[::1]:8080", "http://127.0.0.1", "null", "*",
		"https://*.example.com", "https://*.example.com:8443", "https://a.*.com", "https://app.example.com/", "x://y",
		"https://[fe80::1%25en0]", "https://a.example.com:0", "https://*.1.2.3.4", "https://*.example.com:443",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		origin, pat, isPattern, err := parseOrigin(s)
		if err != nil {
			return
		}
		if isPattern {
			host := "a" + pat.suffix
			if !pat.match(pat.prefix+host) || !pat.match(pat.prefix+"b."+host) {
				t.Fatalf("%q: pattern %+v does not match its subdomains", s, pat)
			}
			if pat.match(pat.prefix + pat.suffix[1:]) {
				t.Fatalf("%q: pattern %+v matches its own host", s, pat)
			}
			if pat.match(pat.prefix + "." + pat.suffix[1:]) {
				t.Fatalf("%q: pattern %+v matches an empty label", s, pat)
			}
			return
		}
		u, err := url.Parse(origin)
		if err != nil {
			t.Fatalf("%q kept as %q, which net/url refuses: %v", s, origin, err)
		}
		if u.Scheme+"://"+u.Host != origin || u.Path != "" || u.User != nil {
			t.Fatalf("%q kept as %q, which net/url reads as %#v", s, origin, u)
		}
		again, _, isPattern, err := parseOrigin(origin)
		if err != nil || isPattern || again != origin {
			t.Fatalf("%q kept as %q, which reads back as %q, %v, %v", s, origin, again, isPattern, err)
		}
	})
}
