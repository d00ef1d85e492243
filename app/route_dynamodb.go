package app

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

// The route key of a DynamoDB stream's table, named in its eventSourceARN. Records from more than one fail with a
// *RouteError.
func init() {
	keyedKinds[event.DynamoDBStream] = keyedKind{source: dynamodbSource}
}

func dynamodbSource(ev *event.Event) (string, error) {
	e := ev.Value.(*events.DynamoDBEvent)
	return oneSource(ev.Kind, len(e.Records), func(i int) string { return e.Records[i].EventSourceArn }, "dynamodb", "table")
}
