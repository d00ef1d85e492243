package event

import "github.com/aws/aws-lambda-go/events"

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

func isFunctionURLDomain(domain []byte) bool {
	return contains(domain, ".lambda-url.")
}
