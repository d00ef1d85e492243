package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/funcify/funcify/event"
)

func init() {
	keyedKinds[event.S3] = keyedKind{source: s3Bucket, key: BucketPrefix, prepare: decodeS3Keys}
}

// S3Handler handles the records of an S3 event notification, all from one
// bucket, with their object keys already URL-decoded. Its result is encoded
// as JSON and becomes the invocation's response.
type S3Handler func(ctx context.Context, e events.S3Event) (any, error)

// HandleS3 registers h for S3 events whose bucket's route key is name: by
// default the bucket's name up to its first '.' ([BucketPrefix]; see
// [WithS3RouteKey]). h gets the records with their object keys
// URL-decoded ('+' for space, as S3 sends them). An event whose records
// come from more than one bucket, or whose bucket has no route, fails the
// invocation with a [*RouteError].
//
// It panics if name is empty, h is nil, or name is already registered.
func HandleS3(a *App, name string, h S3Handler) {
	if h == nil {
		panic("app: HandleS3 needs a name and a handler")
	}
	a.handle(event.S3, name, func(ctx context.Context, ev *event.Event) ([]byte, error) {
		e := ev.Value.(*events.S3Event) // keys decoded by decodeS3Keys
		res, err := h(ctx, *e)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	})
}

// decodeS3Keys decodes the object keys of a routed S3 event, before the
// guard sees it: S3 sends keys URL-encoded, '+' for space. The event is the
// invocation's own, so it is changed in place.
func decodeS3Keys(ev *event.Event) error {
	e := ev.Value.(*events.S3Event)
	for i := range e.Records {
		obj := &e.Records[i].S3.Object
		k, err := url.QueryUnescape(obj.Key)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Message: "malformed S3 object key", Step: "request", Err: err}
		}
		obj.Key, obj.URLDecodedKey = k, k
	}
	return nil
}

// HandleS3 registers h for S3 events whose bucket's route key is name; it
// is [HandleS3] as a method.
func (a *App) HandleS3(name string, h S3Handler) { HandleS3(a, name, h) }

// WithS3RouteKey replaces the function that turns a bucket name into the key
// of its S3 route. The default, [BucketPrefix], takes the name up to its
// first '.'. It is [WithRouteKey] for [event.S3].
func WithS3RouteKey(key func(bucket string) string) Option {
	return WithRouteKey(event.S3, key)
}

// BucketPrefix returns bucket up to its first '.', so that environment
// specific buckets such as "invoices.uat.example.io" route to "invoices".
func BucketPrefix(bucket string) string {
	name, _, _ := strings.Cut(bucket, ".")
	return name
}

// s3Bucket returns the bucket of an S3 event's records, which must all be
// from one bucket.
func s3Bucket(ev *event.Event) (string, error) {
	e := ev.Value.(*events.S3Event)
	var buckets []string
	for _, rec := range e.Records {
		if b := rec.S3.Bucket.Name; !slices.Contains(buckets, b) {
			buckets = append(buckets, b)
		}
	}
	if len(buckets) != 1 {
		return "", &RouteError{Kind: event.S3.String(), Buckets: buckets}
	}
	return buckets[0], nil
}
