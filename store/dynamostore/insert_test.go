package dynamostore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
)

// TestInsertRequests counts the requests of an Insert that conflicts: one
// PutItem when the server returns the item that failed the condition, as
// DynamoDB does, and a GetItem after it when it returns none, as dynalite.
func TestInsertRequests(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	direct := testenv.DynamoDBClient(endpoint)
	table := newTable(t, direct)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name      string
		returnOld bool
		wantGets  int64
	}{
		{"old item returned", true, 0},
		{"no old item", false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, err := dynamostore.New(direct, table).CompareAndSet(ctx, tt.name, 0, []byte("theirs"), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			proxy, url := newDropProxy(t, endpoint, "PutItem", 0)
			proxy.returnOld = tt.returnOld
			s := dynamostore.New(testenv.DynamoDBClient(url), table)
			v, cur, err := s.Insert(ctx, tt.name, []byte("mine"), time.Hour)
			if !errors.Is(err, store.ErrConflict) || v != 0 || cur.Version != want || string(cur.Value) != "theirs" || cur.Expires.IsZero() {
				t.Fatalf("got %d, %+v, %v; want ErrConflict and the item at version %d", v, cur, err, want)
			}
			if n := proxy.seen.Load(); n != 1 {
				t.Errorf("%d PutItem requests, want 1", n)
			}
			if n := proxy.gets.Load(); n != tt.wantGets {
				t.Errorf("%d GetItem requests, want %d", n, tt.wantGets)
			}
		})
	}
}

// TestInsertLostReply: DynamoDB applied an Insert's PutItem, its reply was
// lost, and the SDK's retry failed its condition on the item the first
// attempt wrote: Insert recognises it and succeeds.
func TestInsertLostReply(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	direct := testenv.DynamoDBClient(endpoint)
	table := newTable(t, direct)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, returnOld := range []bool{false, true} {
		name := "no old item"
		if returnOld {
			name = "old item returned"
		}
		t.Run(name, func(t *testing.T) {
			proxy, url := newDropProxy(t, endpoint, "PutItem", 1)
			proxy.returnOld = returnOld
			s := dynamostore.New(testenv.DynamoDBClient(url), table)
			v, cur, err := s.Insert(ctx, name, []byte("mine"), time.Hour)
			if n := proxy.seen.Load(); n != 2 {
				t.Fatalf("the proxy forwarded %d PutItem requests, want 2", n)
			}
			if err != nil || cur.Version != 0 {
				t.Fatalf("Insert whose first reply was lost: got %+v, %v; want its own version", cur, err)
			}
			it, err := dynamostore.New(direct, table).Get(ctx, name)
			if err != nil || it.Version != v || string(it.Value) != "mine" {
				t.Fatalf("Get: got %+v, %v; want version %d, value mine", it, err, v)
			}
		})
	}
}

// TestTooLarge: an item over DynamoDB's 400 KB limit, which dynalite
// enforces too, is refused with an error that matches store.ErrTooLarge;
// one just under it is stored.
func TestTooLarge(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	s := dynamostore.New(c, newTable(t, c))
	ctx := context.Background()
	if _, err := s.CompareAndSet(ctx, "under", 0, make([]byte, 399<<10), time.Hour); err != nil {
		t.Fatalf("a value of 399 KB: %v", err)
	}
	_, err := s.CompareAndSet(ctx, "over", 0, make([]byte, 400<<10), time.Hour)
	if !errors.Is(err, store.ErrTooLarge) || !strings.HasPrefix(err.Error(), "dynamostore: ") {
		t.Fatalf("CompareAndSet of 400 KB: got %v, want a dynamostore error that matches store.ErrTooLarge", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
		t.Errorf("the SDK's error is not wrapped: %v", err)
	}
	if _, _, err := s.Insert(ctx, "over", make([]byte, 400<<10), time.Hour); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Insert of 400 KB: got %v, want store.ErrTooLarge", err)
	}
	if it, err := s.Get(ctx, "over"); err != nil || it.Version != 0 {
		t.Fatalf("Get after the refused writes: got %+v, %v; want the key absent", it, err)
	}
}

// putFailingClient answers PutItem with err.
type putFailingClient struct {
	dynamostore.Client
	err error
}

func (c putFailingClient) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, c.err
}

// TestTooLargeOnlyForSize: DynamoDB answers ValidationException to every
// malformed request; only the item-size one is store.ErrTooLarge.
func TestTooLargeOnlyForSize(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		{"Item size has exceeded the maximum allowed size", true},
		{"One or more parameter values were invalid: An AttributeValue may not contain an empty string", false},
	} {
		s := dynamostore.New(putFailingClient{err: &smithy.GenericAPIError{Code: "ValidationException", Message: tt.msg}}, "table")
		_, err := s.CompareAndSet(context.Background(), "k", 0, []byte("v"), 0)
		if got := errors.Is(err, store.ErrTooLarge); got != tt.want {
			t.Errorf("ValidationException %q: errors.Is(err, store.ErrTooLarge) = %v, want %v (%v)", tt.msg, got, tt.want, err)
		}
	}
}
