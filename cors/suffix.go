package cors

import "strings"

// A pattern allows every subdomain of its host, so it is a promise that
// every subdomain is yours. On a public suffix it is not: anyone can
// register a name under co.uk, or publish a site under github.io, and
// would be allowed. publicSuffix refuses the commonest such hosts. It is
// a partial list, taken from the private section of the Public Suffix
// List (https://publicsuffix.org, checked 2026-12) and a rule for country
// codes' second levels, not the list itself: a host it does not know is
// not proved yours.

// ccSecondLevels are the second-level labels under which countries'
// registries sell names: "<label>.<cc>" (co.uk, com.au, ac.jp, gob.mx)
// is a public suffix in most ccTLDs that have one.
var ccSecondLevels = map[string]struct{}{
	"ac": {}, "biz": {}, "co": {}, "com": {}, "edu": {}, "go": {}, "gob": {}, "gouv": {}, "gov": {},
	"gv": {}, "info": {}, "int": {}, "ltd": {}, "mil": {}, "ne": {}, "net": {}, "nom": {}, "or": {},
	"org": {}, "plc": {}, "sch": {},
}

// sharedHosts are hosting and tunnelling services' domains whose
// subdomains are their customers' sites (the Public Suffix List's private
// section): a pattern on one of them is refused.
var sharedHosts = map[string]struct{}{
	"appspot.com": {}, "azureedge.net": {}, "azurewebsites.net": {}, "blob.core.windows.net": {},
	"blogspot.com": {}, "cloudapp.net": {}, "cloudfront.net": {}, "cloudfunctions.net": {},
	"codeberg.page": {}, "csb.app": {}, "deno.dev": {}, "firebaseapp.com": {}, "fly.dev": {},
	"github.app": {}, "github.io": {}, "githubpreview.dev": {}, "githubusercontent.com": {},
	"gitlab.io": {}, "glitch.me": {}, "herokuapp.com": {}, "myshopify.com": {}, "netlify.app": {},
	"ngrok-free.app": {}, "ngrok.app": {}, "now.sh": {}, "onrender.com": {}, "pages.dev": {},
	"r2.dev": {}, "readthedocs.io": {}, "trafficmanager.net": {}, "trycloudflare.com": {},
	"up.railway.app": {}, "vercel.app": {}, "web.app": {}, "web.core.windows.net": {},
	"webflow.io": {}, "wixsite.com": {}, "workers.dev": {},
}

// sharedTrees are domains every name under which, at any depth, is a
// provider's public suffix or a customer's single site (S3 buckets and
// websites, API Gateway, ELB and Lambda function URLs under amazonaws.com
// and on.aws; Cloud Run, Elastic Beanstalk, Static Web Apps, ngrok's
// regions): a pattern on or under one of them is refused.
var sharedTrees = []string{
	"amazonaws.com", "amazonaws.com.cn", "awsapprunner.com", "azurestaticapps.net",
	"elasticbeanstalk.com", "ngrok.io", "on.aws", "r.appspot.com", "repl.co", "replit.dev", "run.app",
}

// publicSuffix reports whether host, a lower-case domain name, is one of
// the public suffixes described above.
func publicSuffix(host string) bool {
	if _, ok := sharedHosts[host]; ok {
		return true
	}
	for _, t := range sharedTrees {
		if host == t || strings.HasSuffix(host, t) && host[len(host)-len(t)-1] == '.' {
			return true
		}
	}
	second, cc, ok := strings.Cut(host, ".")
	if !ok || len(cc) != 2 || cc[0] < 'a' || cc[0] > 'z' || cc[1] < 'a' || cc[1] > 'z' {
		return false
	}
	_, ok = ccSecondLevels[second]
	return ok
}
