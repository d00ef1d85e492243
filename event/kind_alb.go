package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(ALB, spec{
		name: "alb",
		http: true,
		// An ALB target group event has httpMethod and path at the top
		// level and names its target group in requestContext.elb.
		match: func(s *signature) bool {
			return s.has(keyHTTPMethod) && s.has(keyPath) && s.contextHas(ctxELB)
		},
		decode: decodeAs[events.ALBTargetGroupRequest],
	})
}
