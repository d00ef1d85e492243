package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(ALB, spec{
		name: "alb",
		http: true,
		// An ALB target group event has httpMethod and path at the top
		// level and names its target group in requestContext.elb.
		match: func(s *signature) bool {
			return s.has("httpMethod") && s.has("path") && s.contextHas("elb")
		},
		decode: decodeAs[events.ALBTargetGroupRequest],
	})
}
