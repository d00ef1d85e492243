package cors

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPatternOnPublicSuffixRefused: refusing "https://*.com" is not
// enough, since a pattern on any public suffix allows every site anyone
// can register there (every .co.uk company, github.io pages, Vercel and
// Netlify previews, S3 website and CloudFront hosts). New refuses the
// suffixes of the country-code rule and the embedded list, and accepts a
// pattern one label below them (a name someone owns).
func TestPatternOnPublicSuffixRefused(t *testing.T) {
	for _, o := range []string{
		"https://*.co.uk",
		"https://*.github.io",
		"https://*.vercel.app",
		"https://*.cloudfront.net",
		"https://*.com.au",
		"https://*.ac.jp",
		"https://*.gob.mx",
		"https://*.org.il",
		"https://*.netlify.app",
		"https://*.pages.dev",
		"https://*.herokuapp.com",
		"https://*.azurewebsites.net",
		"https://*.ngrok-free.app",
		"https://*.amazonaws.com",
		"https://*.s3.amazonaws.com",
		"https://*.s3-website-us-east-1.amazonaws.com",
		"https://*.execute-api.eu-west-1.amazonaws.com",
		"https://*.eu-west-1.elb.amazonaws.com",
		"https://*.lambda-url.us-east-1.on.aws",
		"https://*.eu.ngrok.io",
		"https://*.a.run.app",
		"https://*.CO.UK",
		"http://*.github.io:8080",
	} {
		p, err := New(Options{AllowedOrigins: []string{o}})
		if err == nil {
			h := http.Header{}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Origin", "https://attacker"+o[len("https://*"):])
			p.SetHeaders(h, r)
			t.Errorf("New(%q) accepted: it lets %q read answers (Access-Control-Allow-Origin %q)",
				o, r.Header.Get("Origin"), h.Get("Access-Control-Allow-Origin"))
			continue
		}
		if !strings.Contains(err.Error(), "public suffix") {
			t.Errorf("New(%q): got %v, want an error that names a public suffix", o, err)
		}
	}
	for _, o := range []string{
		"https://*.example.co.uk",
		"https://*.team.github.io",
		"https://*.example.com",
		"https://*.example.io",
		"https://*.co.example.com",
		"https://*.notamazonaws.com",
		"https://*.example.app",
	} {
		if _, err := New(Options{AllowedOrigins: []string{o}}); err != nil {
			t.Errorf("New(%q): %v, want it accepted", o, err)
		}
	}
}
