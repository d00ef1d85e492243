package dynamostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/funcify/funcify/awsclient"
	"github.com/funcify/funcify/store"
)

// Attribute names of the table's items; see the package documentation.
const (
	attrKey       = "pk"
	attrValue     = "value"
	attrVersion   = "version"
	attrExpires   = "expires_at"
	attrExpiresMs = "expires_at_ms"
	attrNonce     = "nonce"
	attrCount     = "count"
)

// Condition expressions. #exp is expires_at_ms; names go through
// placeholders because VALUE is a reserved word in DynamoDB expressions.
const (
	// condAbsent holds when the key is absent or has expired.
	condAbsent = "attribute_not_exists(#pk) OR #exp <= :now"
	// condVersion holds when the item has version :v and has not expired.
	condVersion = "#ver = :v AND (attribute_not_exists(#exp) OR #exp > :now)"
)

// Client is the part of *dynamodb.Client that a [Store] calls.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

// updater is the method of *dynamodb.Client that [Store.Add] calls besides
// those of [Client]. It is apart so that a Client of one's own with the
// three methods a Store always needs remains one.
type updater interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ updater = (*dynamodb.Client)(nil)

// Store is a [store.Store] on a DynamoDB table. It is safe for concurrent
// use; the zero value is not usable: call [New].
type Store struct {
	client Client
	table  string
	now    func() time.Time
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Counter  = (*Store)(nil)
	_ store.Inserter = (*Store)(nil)
)

// Option configures a [Store].
type Option func(*Store)

// withClock makes the store read the time from now, which decides whether
// an item has expired and when a new one expires; for the package's tests,
// through export_test.go.
func withClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns a Store on the table, which must exist with the layout that
// the package documentation describes (see [CreateTable]). client is
// typically a *dynamodb.Client built once per cold start. New does no I/O;
// it panics if client is nil or table is empty, mistakes in the code that
// sets the function up, as net/http's ServeMux.Handle does with a nil
// handler.
func New(client Client, table string, opts ...Option) *Store {
	if client == nil {
		panic("dynamostore: New with a nil client")
	}
	if table == "" {
		panic("dynamostore: New with an empty table name")
	}
	s := &Store{client: client, table: table, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Get returns the item at key; an absent or expired key gives a zero Item.
// See [store.Store.Get].
func (s *Store) Get(ctx context.Context, key string) (store.Item, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Item{}, fmt.Errorf("dynamostore: get %q: %w", key, err)
	}
	if out.Item == nil {
		return store.Item{}, nil
	}
	it, err := decode(out.Item)
	if err != nil {
		return store.Item{}, fmt.Errorf("dynamostore: get %q: %w", key, err)
	}
	if !it.Expires.IsZero() && !s.now().Before(it.Expires) {
		return store.Item{}, nil // expired; DynamoDB's TTL has not deleted it yet
	}
	return it, nil
}

// CompareAndSet writes value at key if version is the stored one, in one
// conditional PutItem; see [store.Store.CompareAndSet].
//
// The item carries a random nonce, so that the store recognises its own
// write: when the SDK retried the PutItem (an earlier attempt may have been
// applied and its reply lost) and the retry failed its condition, the item
// that failed it is compared with the one this call wrote. Same version and
// nonce: the write is this call's, and CompareAndSet succeeds.
func (s *Store) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	next := version + 1
	if version == 0 {
		next = rand.Int64N(1<<62) + 1
	}
	nonce, attempts, err := s.putIf(ctx, key, value, version, next, s.now(), ttl)
	var ccf *types.ConditionalCheckFailedException
	if attempts > 1 && errors.As(err, &ccf) {
		mine, cerr := s.wrote(ctx, key, ccf.Item, next, nonce)
		switch {
		case cerr != nil:
			return 0, fmt.Errorf("dynamostore: compare-and-set %q: a retried write failed its condition, and whether an earlier attempt was applied is unknown: %w", key, cerr)
		case mine:
			return next, nil
		}
	}
	if err != nil {
		return 0, writeError("compare-and-set", key, err)
	}
	return next, nil
}

// newItem returns the attributes of an item of value at key, written at now
// with version and nonce, that expires after ttl (never for 0 or less).
func newItem(key string, value []byte, version, nonce int64, now time.Time, ttl time.Duration) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrKey:     &types.AttributeValueMemberS{Value: key},
		attrValue:   &types.AttributeValueMemberB{Value: nonNil(value)},
		attrVersion: number(version),
		attrNonce:   number(nonce),
	}
	if ttl > 0 {
		ms := expiryMillis(now.Add(ttl))
		item[attrExpiresMs] = number(ms)
		item[attrExpires] = number((ms + 999) / 1000) // rounded up: TTL must not delete it early
	}
	return item
}

// insertRounds bounds the rounds of Insert on a server that returns no item
// with a failed condition: a round ends without an item only when the item
// that failed the condition was deleted, or expired, before the read after
// it.
const insertRounds = 8

// Insert writes value at key if the key is absent or has expired, or
// returns store.ErrConflict and the item that holds it; see
// [store.Inserter.Insert]. It is one PutItem with the condition of
// CompareAndSet with version 0 and ReturnValuesOnConditionCheckFailure
// ALL_OLD: DynamoDB returns the item that failed the condition with the
// error, so a conflict costs no more than the write. A server that returns
// none (dynalite, other DynamoDB-compatible servers) costs a consistent
// GetItem after the failed PutItem, and Insert is then two requests and
// not atomic: when that read finds the key free again, Insert tries again.
// As in CompareAndSet, a PutItem that the SDK retried and whose condition
// failed on the item that its first attempt wrote (same version, same
// nonce) succeeds.
func (s *Store) Insert(ctx context.Context, key string, value []byte, ttl time.Duration) (int64, store.Item, error) {
	for range insertRounds {
		next := rand.Int64N(1<<62) + 1
		nonce, attempts, err := s.putIf(ctx, key, value, 0, next, s.now(), ttl)
		var ccf *types.ConditionalCheckFailedException
		if err == nil {
			return next, store.Item{}, nil
		}
		if !errors.As(err, &ccf) {
			return 0, store.Item{}, writeError("insert", key, err)
		}
		old := ccf.Item
		if old == nil {
			if old, err = s.read(ctx, key); err != nil {
				return 0, store.Item{}, fmt.Errorf("dynamostore: insert %q: the key is taken, and the item that holds it could not be read: %w", key, err)
			}
		}
		if attempts > 1 && isWrite(old, next, nonce) {
			return next, store.Item{}, nil // this call's own write, retried
		}
		if old == nil {
			continue // gone since the write failed
		}
		it, err := decode(old)
		if err != nil {
			return 0, store.Item{}, fmt.Errorf("dynamostore: insert %q: %w", key, err)
		}
		if !it.Expires.IsZero() && !s.now().Before(it.Expires) {
			continue // expired since the write failed
		}
		return 0, it, store.ErrConflict
	}
	return 0, store.Item{}, fmt.Errorf("dynamostore: insert %q: the key was taken, then free again when read, %d times", key, insertRounds)
}

// wrote reports whether the item at key is the one a CompareAndSet wrote
// with version and nonce. old is the item that failed the condition, as the
// server returned it; when the server returned none, wrote reads the item.
func (s *Store) wrote(ctx context.Context, key string, old map[string]types.AttributeValue, version, nonce int64) (bool, error) {
	if old == nil {
		var err error
		if old, err = s.read(ctx, key); err != nil {
			return false, err
		}
	}
	return isWrite(old, version, nonce), nil
}

// isWrite reports whether item, if any, holds version and nonce: it is the
// item a write with them made.
func isWrite(item map[string]types.AttributeValue, version, nonce int64) bool {
	v, err1 := numberAttr(item, attrVersion)
	n, err2 := numberAttr(item, attrNonce)
	return err1 == nil && err2 == nil && v == version && n == nonce
}

// putIf writes value at key as version next, with a nonce of its own that
// it returns, if the key holds version (0: no item, or an expired one at
// now), in one conditional PutItem, and counts the attempts the SDK made.
// On a failed condition the error is a *types.ConditionalCheckFailedException
// whose Item is the item that failed it, when the server returns it.
func (s *Store) putIf(ctx context.Context, key string, value []byte, version, next int64, now time.Time, ttl time.Duration) (nonce int64, attempts int, err error) {
	nonce = rand.Int64N(1<<62) + 1
	cond, names, values := condition(version, now)
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      newItem(key, value, next, nonce, now, ttl),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		// The item that failed the condition comes back with the
		// error (DynamoDB does so since 2023; other servers may not).
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, countAttempts(&attempts))
	return nonce, attempts, err
}

// countAttempts counts in n the attempts that the SDK makes of one call,
// retries included. Its middleware runs after the SDK's retry middleware,
// once per attempt.
func countAttempts(n *int) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("funcify/dynamostore/attempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					*n++
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
}

// Delete removes key if version is the stored one, in one conditional
// DeleteItem; see [store.Store.Delete]. Deleting an expired item with
// version 0 succeeds and removes it.
func (s *Store) Delete(ctx context.Context, key string, version int64) error {
	cond, names, values := condition(version, s.now())
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf(key),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		return writeError("delete", key, err)
	}
	return nil
}

// Condition expressions of a counter. #cnt is count, #exp expires_at_ms.
const (
	// condCounting holds when the key holds a counter that has not
	// expired.
	condCounting = "attribute_exists(#cnt) AND (attribute_not_exists(#exp) OR #exp > :now)"
)

// addRounds bounds the rounds of Add: a round ends without a count only when
// another writer created the counter, or it expired, between Add's two
// requests.
const addRounds = 8

// Add adds delta to the counter at key and returns its new value; see
// [store.Counter.Add]. It is one UpdateItem (ADD) on a counter that exists,
// and a conditional PutItem that creates it at delta, with its expiry, when
// the UpdateItem finds none or finds it expired.
//
// Add needs a client with UpdateItem, as *dynamodb.Client has; with a
// [Client] of one's own that lacks it, Add returns an error that wraps
// errors.ErrUnsupported.
func (s *Store) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	u, ok := s.client.(updater)
	if !ok {
		return 0, fmt.Errorf("dynamostore: add %q: the client has no UpdateItem: %w", key, errors.ErrUnsupported)
	}
	for range addRounds {
		now := s.now()
		out, err := u.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       keyOf(key),
			UpdateExpression:          aws.String("ADD #cnt :d"),
			ConditionExpression:       aws.String(condCounting),
			ExpressionAttributeNames:  map[string]string{"#cnt": attrCount, "#exp": attrExpiresMs},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": number(delta), ":now": number(now.UnixMilli())},
			ReturnValues:              types.ReturnValueUpdatedNew,
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			n, err := numberAttr(out.Attributes, attrCount)
			if err != nil {
				return 0, fmt.Errorf("dynamostore: add %q: %w", key, err)
			}
			return n, nil
		case !errors.As(err, &ccf):
			return 0, fmt.Errorf("dynamostore: add %q: %w", key, err)
		}

		// No counter, or an expired one: create it.
		nonce := rand.Int64N(1<<62) + 1
		item := map[string]types.AttributeValue{
			attrKey:   &types.AttributeValueMemberS{Value: key},
			attrCount: number(delta),
			attrNonce: number(nonce),
		}
		if ttl > 0 {
			ms := expiryMillis(now.Add(ttl))
			item[attrExpiresMs] = number(ms)
			item[attrExpires] = number((ms + 999) / 1000)
		}
		cond, names, values := condition(0, now)
		var attempts int
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                           aws.String(s.table),
			Item:                                item,
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            names,
			ExpressionAttributeValues:           values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}, countAttempts(&attempts))
		switch {
		case err == nil:
			return delta, nil
		case !errors.As(err, &ccf):
			return 0, fmt.Errorf("dynamostore: add %q: %w", key, err)
		case attempts > 1:
			// An earlier attempt may have created it, its reply lost.
			old := ccf.Item
			if old == nil {
				if old, err = s.read(ctx, key); err != nil {
					return 0, fmt.Errorf("dynamostore: add %q: a retried create failed its condition, and whether an earlier attempt was applied is unknown: %w", key, err)
				}
			}
			if n, err := numberAttr(old, attrNonce); err == nil && n == nonce {
				count, err := numberAttr(old, attrCount)
				if err != nil {
					return 0, fmt.Errorf("dynamostore: add %q: %w", key, err)
				}
				return count, nil
			}
		}
		// Another writer created the counter first: add to it.
	}
	return 0, fmt.Errorf("dynamostore: add %q: no count after %d rounds: does the key hold an item that is not a counter?", key, addRounds)
}

// read returns the stored attributes of key, read consistently; nil when
// there is no item.
func (s *Store) read(ctx context.Context, key string) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// condition returns the condition of a write that expects version at now:
// the expression and its attribute names and values.
func condition(version int64, now time.Time) (string, map[string]string, map[string]types.AttributeValue) {
	nowMs := number(now.UnixMilli())
	if version == 0 {
		return condAbsent,
			map[string]string{"#pk": attrKey, "#exp": attrExpiresMs},
			map[string]types.AttributeValue{":now": nowMs}
	}
	return condVersion,
		map[string]string{"#ver": attrVersion, "#exp": attrExpiresMs},
		map[string]types.AttributeValue{":v": number(version), ":now": nowMs}
}

// writeError turns a failed condition into store.ErrConflict, wraps
// store.ErrTooLarge and err for an item over DynamoDB's size limit, and
// wraps every other error.
func writeError(op, key string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return store.ErrConflict
	}
	if tooLarge(err) {
		return fmt.Errorf("dynamostore: %s %q: %w: %w", op, key, store.ErrTooLarge, err)
	}
	return fmt.Errorf("dynamostore: %s %q: %w", op, key, err)
}

// tooLarge reports whether err is DynamoDB's refusal of an item over its
// size limit (400 KB, attribute names included): a ValidationException
// "Item size has exceeded the maximum allowed size". The exception's code
// is shared with every malformed request, so its message tells them apart.
func tooLarge(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException" &&
		strings.Contains(apiErr.ErrorMessage(), "Item size has exceeded the maximum allowed size")
}

// decode reads a stored item.
func decode(item map[string]types.AttributeValue) (store.Item, error) {
	var it store.Item
	switch v := item[attrValue].(type) {
	case *types.AttributeValueMemberB:
		it.Value = bytes.Clone(nonNil(v.Value))
	default:
		return store.Item{}, fmt.Errorf("attribute %s: got %T, want binary", attrValue, item[attrValue])
	}
	ver, err := numberAttr(item, attrVersion)
	if err != nil {
		return store.Item{}, err
	}
	if ver == 0 {
		return store.Item{}, fmt.Errorf("attribute %s is missing or 0", attrVersion)
	}
	it.Version = ver
	if _, ok := item[attrExpiresMs]; ok {
		ms, err := numberAttr(item, attrExpiresMs)
		if err != nil {
			return store.Item{}, err
		}
		it.Expires = time.UnixMilli(ms)
	}
	return it, nil
}

// numberAttr returns the integer in the number attribute name, or 0 when it
// is absent.
func numberAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	a, ok := item[name]
	if !ok {
		return 0, nil
	}
	n, ok := a.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s: got %T, want a number", name, a)
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return v, nil
}

func keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrKey: &types.AttributeValueMemberS{Value: key}}
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// nonNil returns b, or an empty slice for nil: the SDK sends a nil binary
// value as no value at all, which DynamoDB rejects.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// expiryMillis returns t in Unix milliseconds, rounded up so that an item
// never expires before t.
func expiryMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// CreateTable creates table with the layout that the package documentation
// describes, with on-demand billing, waits until it is ACTIVE, and sets its
// time to live attribute to expires_at. It is meant for tests and a first
// setup; production tables usually come from an infrastructure template.
// An existing table is an error (*types.ResourceInUseException, wrapped).
//
// A DynamoDB-compatible server that does not implement UpdateTimeToLive
// (dynalite answers UnknownOperationException) gets the table without TTL:
// the store is correct without it, expired items only keep their space.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrKey), KeyType: types.KeyTypeHash},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("dynamostore: create table %s: %w", table, err)
	}
	// Poll from 100 ms on, backing off to 5 s: a test server's table is
	// ACTIVE at once, DynamoDB's within seconds. The context bounds the
	// wait; the waiter insists on a bound of its own.
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Hour); err != nil {
		return fmt.Errorf("dynamostore: create table %s: wait until active: %w", table, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrExpires),
			Enabled:       aws.Bool(true),
		},
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "UnknownOperationException" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamostore: create table %s: enable TTL on %s: %w", table, attrExpires, err)
	}
	return nil
}

// DefaultClient returns the process's DynamoDB client, built on first use
// with awsclient.Client (service "dynamodb": the configuration of
// awsclient.Config, from the Lambda environment by default, and the
// endpoint in FUNCIFY_ENDPOINT_DYNAMODB, if set). A failure to load the AWS
// configuration is returned and not kept.
func DefaultClient(ctx context.Context) (*dynamodb.Client, error) {
	c, err := awsclient.Client(ctx, "dynamodb", func(cfg aws.Config, endpoint string) *dynamodb.Client {
		return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: %w", err)
	}
	return c, nil
}
