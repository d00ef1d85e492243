package event

import (
	"bytes"

	"github.com/aws/aws-lambda-go/events"
)

func init() {
	register(FunctionURL, spec{
		name: "function-url",
		http: true,
		// A function URL event is an HTTP API 2.0 payload whose domain is
		// the function URL's own: <url-id>.lambda-url.<region>.on.aws.
		match: func(s *signature) bool {
			return isHTTPv2(s) && isFunctionURLDomain(s.domainName)
		},
		decode: decodeAs[events.LambdaFunctionURLRequest],
	})
}

// isFunctionURLDomain reports whether domain is a function URL's own,
// <url-id>.lambda-url.<region>.on.aws, as AWS spells it (in lower case).
// An HTTP API on a custom domain that merely contains "lambda-url", such as
// api.lambda-url.example.com, is not one.
func isFunctionURLDomain(domain []byte) bool {
	rest, ok := bytes.CutSuffix(domain, []byte(".on.aws"))
	if !ok {
		return false
	}
	dot := bytes.LastIndexByte(rest, '.')
	if dot < 0 || dot == len(rest)-1 { // no region label
		return false
	}
	id, ok := bytes.CutSuffix(rest[:dot], []byte(".lambda-url"))
	return ok && len(id) > 0 && bytes.IndexByte(id, '.') < 0
}
