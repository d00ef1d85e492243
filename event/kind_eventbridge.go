package event

import "github.com/aws/aws-lambda-go/events"

func init() {
	register(EventBridge, spec{
		name:   "eventbridge",
		match:  func(s *signature) bool { return isEventBridge(s) && !isSchedule(s) },
		decode: decodeAs[events.EventBridgeEvent],
	})
	register(Schedule, spec{
		name:   "schedule",
		match:  func(s *signature) bool { return isEventBridge(s) && isSchedule(s) },
		decode: decodeAs[events.EventBridgeEvent],
	})
}

// isEventBridge reports whether s is an EventBridge event. EventBridge sends
// version, id, detail-type, source, account, time, region, resources and
// detail; the three that make an event what it is are required: a
// detail-type and a source that are non-empty strings, and a detail. A
// CloudWatch alarm's Lambda action, which has a source but no detail-type,
// is not one, nor is any payload with Records or an HTTP event's members.
func isEventBridge(s *signature) bool {
	return len(s.source) > 0 && len(s.detailType) > 0 && s.has(keyDetail) &&
		!s.records && !s.has(keyHTTPMethod) && !s.context
}

// isSchedule reports whether the EventBridge event s is a scheduled rule's.
func isSchedule(s *signature) bool {
	return string(s.source) == "aws.events" && string(s.detailType) == "Scheduled Event"
}
