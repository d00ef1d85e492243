package app

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// UnmarshalImage documents an error for what it cannot write; a zero
// events.DynamoDBAttributeValue (its zero DataType is DataTypeBinary, with a
// nil value), e.g. from a map built in a test or by hand, panics instead
// (interface conversion in av.Binary()).
func TestUnmarshalImageZeroAttribute(t *testing.T) {
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("UnmarshalImage panicked: %v", v)
		}
	}()
	_, err := UnmarshalImage[map[string]any](map[string]events.DynamoDBAttributeValue{"x": {}})
	t.Logf("err: %v", err)
}
