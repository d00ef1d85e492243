package app

import "strings"

// arnResource returns the resource part of an ARN of the given service,
// "arn:<partition>:<service>:<region>:<account>:<resource>", and whether arn
// is one. The route key functions of the kinds whose sources are named by
// ARN (an SQS queue, an SNS topic, a DynamoDB table's stream, a Kinesis
// stream, an EventBridge rule) read their source's name from it.
func arnResource(arn, service string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", false
	}
	parts := strings.SplitN(rest, ":", 5) // partition, service, region, account, resource
	if len(parts) != 5 || parts[0] == "" || parts[1] != service || parts[4] == "" {
		return "", false
	}
	return parts[4], true
}

// arnName returns the name of the resource of type typ ("table", "stream",
// or "" for services whose resource is the name itself, as SQS queues and
// SNS topics) in an ARN of service: the resource after "typ/", up to the
// next '/' or ':'. An ARN of another service or type has none.
func arnName(arn, service, typ string) (string, bool) {
	res, ok := arnResource(arn, service)
	if !ok {
		return "", false
	}
	if typ != "" {
		if res, ok = strings.CutPrefix(res, typ+"/"); !ok {
			return "", false
		}
	}
	if typ == "rule" {
		// An EventBridge rule on a custom bus is rule/<bus>/<name>.
		if i := strings.LastIndexByte(res, '/'); i >= 0 {
			res = res[i+1:]
		}
	}
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		res = res[:i]
	}
	return res, res != ""
}
