package dynamostore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funcify/funcify/awsclient"
	"github.com/funcify/funcify/internal/testenv"
	"github.com/funcify/funcify/store"
	"github.com/funcify/funcify/store/dynamostore"
	"github.com/funcify/funcify/store/storetest"
)

// tables numbers the tables that newTable creates, so that each is new.
var tables atomic.Int64

// newTable creates a table of its own for the caller on the server behind c.
func newTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("funcify-test-%d", tables.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, c, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// quickClient returns a client for endpoint that tries each call once, so
// that a test against a stopped server fails fast.
func quickClient(endpoint string) *dynamodb.Client {
	return testenv.DynamoDBClient(endpoint, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
}

func TestContract(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	storetest.Run(t, func(t *testing.T) store.Store {
		return dynamostore.New(c, newTable(t, c))
	})
}

func TestCreateTable(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	ctx := context.Background()
	if err := dynamostore.CreateTable(ctx, c, "state"); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("state")})
	if err != nil {
		t.Fatal(err)
	}
	tab := out.Table
	if tab.TableStatus != types.TableStatusActive {
		t.Errorf("status: got %s, want ACTIVE", tab.TableStatus)
	}
	if len(tab.KeySchema) != 1 || aws.ToString(tab.KeySchema[0].AttributeName) != "pk" || tab.KeySchema[0].KeyType != types.KeyTypeHash {
		t.Errorf("key schema: got %+v, want pk HASH", tab.KeySchema)
	}
	if len(tab.AttributeDefinitions) != 1 || tab.AttributeDefinitions[0].AttributeType != types.ScalarAttributeTypeS {
		t.Errorf("attribute definitions: got %+v, want pk S", tab.AttributeDefinitions)
	}
	err = dynamostore.CreateTable(ctx, c, "state")
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) || !strings.HasPrefix(err.Error(), "dynamostore: ") {
		t.Errorf("CreateTable of an existing table: got %v, want a wrapped ResourceInUseException", err)
	}
}

// TestItemLayout checks the attributes that the package documents, which a
// table's TTL setting and other tools rely on.
func TestItemLayout(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	table := newTable(t, c)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := dynamostore.New(c, table, dynamostore.WithClock(func() time.Time { return now }))
	ctx := context.Background()

	tests := []struct {
		name          string
		ttl           time.Duration
		wantExpires   string // expires_at; "" for absent
		wantExpiresMs string // expires_at_ms
	}{
		{"forever", 0, "", ""},
		{"whole seconds", time.Minute, "1795608060", "1795608060000"},
		{"rounded up", 1500*time.Millisecond + time.Nanosecond, "1795608002", "1795608001501"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := s.CompareAndSet(ctx, tt.name, 0, []byte("x"), tt.ttl)
			if err != nil {
				t.Fatal(err)
			}
			item := rawItem(t, c, table, tt.name)
			want := map[string]string{
				"pk":            "S:" + tt.name,
				"value":         "B:x",
				"version":       fmt.Sprintf("N:%d", v),
				"expires_at":    "N:" + tt.wantExpires,
				"expires_at_ms": "N:" + tt.wantExpiresMs,
			}
			if tt.wantExpires == "" {
				delete(want, "expires_at")
				delete(want, "expires_at_ms")
			}
			// The nonce is random: a positive number.
			if n := strings.TrimPrefix(item["nonce"], "N:"); n == item["nonce"] || n == "" || n == "0" || strings.HasPrefix(n, "-") {
				t.Errorf("nonce: got %q, want a positive number", item["nonce"])
			}
			want["nonce"] = item["nonce"]
			if len(item) != len(want) {
				t.Errorf("got attributes %v, want %v", item, want)
			}
			for name, w := range want {
				if got := item[name]; got != w {
					t.Errorf("%s: got %q, want %q", name, got, w)
				}
			}
			it, err := s.Get(ctx, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if got := it.Expires; tt.ttl > 0 && fmt.Sprint(got.UnixMilli()) != tt.wantExpiresMs {
				t.Errorf("Expires: got %v, want %s ms", got, tt.wantExpiresMs)
			}
		})
	}
}

// rawItem reads the item at key without the store, as "TYPE:value" per
// attribute.
func rawItem(t *testing.T, c *dynamodb.Client, table, key string) map[string]string {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	m := make(map[string]string, len(out.Item))
	for name, a := range out.Item {
		switch v := a.(type) {
		case *types.AttributeValueMemberS:
			m[name] = "S:" + v.Value
		case *types.AttributeValueMemberN:
			m[name] = "N:" + v.Value
		case *types.AttributeValueMemberB:
			m[name] = "B:" + string(v.Value)
		default:
			m[name] = fmt.Sprintf("%T", a)
		}
	}
	return m
}

// TestExpiredNotDeleted covers an item whose expiry has passed but which
// DynamoDB's TTL has not deleted yet (dynalite never deletes it): it reads
// as absent, its old version no longer writes or deletes it, and version 0
// writes over it.
func TestExpiredNotDeleted(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	table := newTable(t, c)
	ctx := context.Background()
	now := time.UnixMilli(time.Now().UnixMilli()) // whole milliseconds, as stored
	clock := func() time.Time { return now }
	s := dynamostore.New(c, table, dynamostore.WithClock(clock))

	v, err := s.CompareAndSet(ctx, "k", 0, []byte("old"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute - time.Millisecond)
	if it, err := s.Get(ctx, "k"); err != nil || it.Version != v {
		t.Fatalf("Get a millisecond before expiry: got %+v, %v; want version %d", it, err, v)
	}
	now = now.Add(time.Millisecond)
	if rawItem(t, c, table, "k") == nil {
		t.Fatal("the expired item is gone; this test needs it still stored")
	}
	if it, err := s.Get(ctx, "k"); err != nil || it.Version != 0 || it.Value != nil {
		t.Fatalf("Get at expiry: got %+v, %v; want a zero Item", it, err)
	}
	if _, err := s.CompareAndSet(ctx, "k", v, []byte("stale"), 0); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CompareAndSet with the expired item's version: got %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, "k", v); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Delete with the expired item's version: got %v, want ErrConflict", err)
	}
	v2, err := s.CompareAndSet(ctx, "k", 0, []byte("new"), 0)
	if err != nil {
		t.Fatalf("CompareAndSet with version 0 over the expired item: %v", err)
	}
	if v2 == v {
		t.Errorf("the new item reused the expired one's version %d", v)
	}
	if it, err := s.Get(ctx, "k"); err != nil || it.Version != v2 || string(it.Value) != "new" || !it.Expires.IsZero() {
		t.Errorf("Get after the overwrite: got %+v, %v", it, err)
	}

	// Delete with version 0 removes an expired item.
	if _, err := s.CompareAndSet(ctx, "gone", 0, []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if err := s.Delete(ctx, "gone", 0); err != nil {
		t.Fatalf("Delete with version 0 of an expired item: %v", err)
	}
	if item := rawItem(t, c, table, "gone"); item != nil {
		t.Errorf("the expired item is still stored after Delete: %v", item)
	}
}

// TestRacingClients has two instances, each with a client of its own,
// write the same key from the same version at the same moment, round after
// round: exactly one write wins each round.
func TestRacingClients(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	c1, c2 := testenv.DynamoDBClient(endpoint), testenv.DynamoDBClient(endpoint)
	table := newTable(t, c1)
	stores := []*dynamostore.Store{dynamostore.New(c1, table), dynamostore.New(c2, table)}
	ctx := context.Background()

	var version int64 // 0: the first round races to create the key
	for round := range 30 {
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			versions [2]int64
			errs     [2]error
		)
		for i, s := range stores {
			wg.Go(func() {
				<-start
				versions[i], errs[i] = s.CompareAndSet(ctx, "counter", version, fmt.Appendf(nil, "%d by %d", round, i), 0)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: both writers won from version %d", round, version)
				}
				winner = i
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d, writer %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won from version %d", round, version)
		}
		// Each instance reads the winner's write.
		want := fmt.Sprintf("%d by %d", round, winner)
		for i, s := range stores {
			it, err := s.Get(ctx, "counter")
			if err != nil || it.Version != versions[winner] || string(it.Value) != want {
				t.Fatalf("round %d, reader %d: got %+v, %v; want version %d, value %q", round, i, it, err, versions[winner], want)
			}
		}
		version = versions[winner]
	}
}

// TestDeleteRace has instances race a Delete against other Deletes and
// against a CompareAndSet from the same version: exactly one wins.
func TestDeleteRace(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	const instances = 4
	var stores []*dynamostore.Store
	c := testenv.DynamoDBClient(endpoint)
	table := newTable(t, c)
	for range instances {
		stores = append(stores, dynamostore.New(testenv.DynamoDBClient(endpoint), table))
	}
	ctx := context.Background()

	for round := range 20 {
		key := fmt.Sprintf("k%d", round)
		v, err := stores[0].CompareAndSet(ctx, key, 0, []byte("x"), 0)
		if err != nil {
			t.Fatal(err)
		}
		// Instance 0 writes, the others delete, all from version v.
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [instances]error
			next  int64
		)
		for i, s := range stores {
			wg.Go(func() {
				<-start
				if i == 0 {
					next, errs[i] = s.CompareAndSet(ctx, key, v, []byte("y"), 0)
					return
				}
				errs[i] = s.Delete(ctx, key, v)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: instances %d and %d both won from version %d", round, winner, i, v)
				}
				winner = i
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d, instance %d: %v", round, i, err)
			}
		}
		it, err := stores[0].Get(ctx, key)
		switch {
		case err != nil:
			t.Fatal(err)
		case winner < 0:
			t.Fatalf("round %d: nobody won from version %d", round, v)
		case winner == 0 && (it.Version != next || string(it.Value) != "y"):
			t.Fatalf("round %d: the write won, but Get gives %+v", round, it)
		case winner > 0 && it.Version != 0:
			t.Fatalf("round %d: a delete won, but Get gives %+v", round, it)
		}
	}
}

// TestServerStopped stops DynamoDB mid-test: every call fails promptly, with
// an error that is not ErrConflict, so that a caller falls back to local
// state instead of retrying a conflict.
func TestServerStopped(t *testing.T) {
	srv := testenv.StartDynalite(t)
	c := quickClient(srv.Endpoint)
	table := newTable(t, c)
	s := dynamostore.New(c, table)
	ctx := context.Background()
	v, err := s.CompareAndSet(ctx, "k", 0, []byte("x"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	srv.Stop()

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err }},
		{"CompareAndSet", func(ctx context.Context) error {
			_, err := s.CompareAndSet(ctx, "k", v, []byte("y"), time.Minute)
			return err
		}},
		{"CompareAndSet version 0", func(ctx context.Context) error {
			_, err := s.CompareAndSet(ctx, "new", 0, []byte("y"), 0)
			return err
		}},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, "k", v) }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			err := tt.call(ctx)
			if took := time.Since(begin); took > 2*time.Second {
				t.Errorf("took %v, want a prompt failure", took)
			}
			if err == nil || errors.Is(err, store.ErrConflict) {
				t.Fatalf("got %v, want an error that is not ErrConflict", err)
			}
			if !strings.HasPrefix(err.Error(), "dynamostore: ") {
				t.Errorf("error %q lacks the prefix %q", err, "dynamostore: ")
			}
		})
	}
}

// TestDeadline checks that a call gives up at the caller's deadline, against
// a stopped server with the SDK's default retries, and against a server that
// accepts connections and never answers.
func TestDeadline(t *testing.T) {
	srv := testenv.StartDynalite(t)
	stopped := testenv.DynamoDBClient(srv.Endpoint) // default retryer: 4 attempts with backoff
	table := newTable(t, stopped)
	srv.Stop()

	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	var conns sync.WaitGroup
	go func() {
		defer close(accepted)
		for {
			conn, err := hung.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { // read the request, answer nothing, until the client hangs up
				defer conn.Close()
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				io.Copy(io.Discard, conn)
			})
		}
	}()
	t.Cleanup(func() {
		hung.Close()
		<-accepted
		conns.Wait()
	})

	servers := []struct {
		name   string
		client *dynamodb.Client
	}{
		{"stopped", stopped},
		{"hung", testenv.DynamoDBClient("http://" + hung.Addr().String())},
	}
	const deadline = 300 * time.Millisecond
	for _, tt := range servers {
		t.Run(tt.name, func(t *testing.T) {
			s := dynamostore.New(tt.client, table)
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			begin := time.Now()
			_, err := s.CompareAndSet(ctx, "k", 0, []byte("x"), 0)
			if took := time.Since(begin); took > deadline+time.Second {
				t.Errorf("took %v with a deadline of %v", took, deadline)
			}
			if err == nil || errors.Is(err, store.ErrConflict) {
				t.Fatalf("got %v, want an error that is not ErrConflict", err)
			}
			if tt.name == "hung" && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want it to wrap context.DeadlineExceeded", err)
			}
		})
	}
}

func TestCanceledContextError(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	s := dynamostore.New(c, newTable(t, c))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, "k")
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "dynamostore: ") {
		t.Errorf("Get with a canceled context: got %v, want a wrapped context.Canceled", err)
	}
}

// fakeClient answers GetItem with item, for items the store did not write.
type fakeClient struct {
	dynamostore.Client
	item map[string]types.AttributeValue
}

func (f fakeClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if !aws.ToBool(in.ConsistentRead) {
		return nil, errors.New("fake: Get must read consistently")
	}
	return &dynamodb.GetItemOutput{Item: f.item}, nil
}

func TestGetForeignItem(t *testing.T) {
	b := func(s string) types.AttributeValue { return &types.AttributeValueMemberB{Value: []byte(s)} }
	n := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	str := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	tests := []struct {
		name    string
		item    map[string]types.AttributeValue
		wantErr string // "" for success
	}{
		{"valid", map[string]types.AttributeValue{"pk": str("k"), "value": b("v"), "version": n("7")}, ""},
		{"string value", map[string]types.AttributeValue{"pk": str("k"), "value": str("v"), "version": n("7")}, "want binary"},
		{"no value", map[string]types.AttributeValue{"pk": str("k"), "version": n("7")}, "want binary"},
		{"no version", map[string]types.AttributeValue{"pk": str("k"), "value": b("v")}, "version is missing"},
		{"fractional version", map[string]types.AttributeValue{"pk": str("k"), "value": b("v"), "version": n("1.5")}, "invalid syntax"},
		{"string expiry", map[string]types.AttributeValue{"pk": str("k"), "value": b("v"), "version": n("7"), "expires_at_ms": str("soon")}, "want a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dynamostore.New(fakeClient{item: tt.item}, "table")
			it, err := s.Get(context.Background(), "k")
			if tt.wantErr == "" {
				if err != nil || it.Version != 7 || !bytes.Equal(it.Value, []byte("v")) {
					t.Errorf("got %+v, %v; want version 7, value v", it, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "dynamostore: ") {
				t.Errorf("got %+v, %v; want an error containing %q", it, err, tt.wantErr)
			}
		})
	}
}

// TestAddUnsupported checks the error of Add with a Client of one's own
// that has no UpdateItem.
func TestAddUnsupported(t *testing.T) {
	s := dynamostore.New(fakeClient{}, "table")
	if _, err := s.Add(context.Background(), "k", 1, 0); !errors.Is(err, errors.ErrUnsupported) || !strings.HasPrefix(err.Error(), "dynamostore: ") {
		t.Errorf("got %v, want a dynamostore error that wraps errors.ErrUnsupported", err)
	}
}

// TestCounterLayout checks the attributes of a counter that the package
// documents.
func TestCounterLayout(t *testing.T) {
	c := testenv.DynamoDBClient(testenv.Dynalite(t))
	table := newTable(t, c)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := dynamostore.New(c, table, dynamostore.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	if n, err := s.Add(ctx, "c", 3, time.Minute); err != nil || n != 3 {
		t.Fatalf("Add: got %d, %v", n, err)
	}
	now = now.Add(time.Second)
	if n, err := s.Add(ctx, "c", 1<<62, time.Hour); err != nil || n != 1<<62+3 {
		t.Fatalf("Add: got %d, %v", n, err)
	}
	item := rawItem(t, c, table, "c")
	want := map[string]string{
		"pk":            "S:c",
		"count":         fmt.Sprintf("N:%d", int64(1<<62+3)),
		"expires_at":    "N:1795608060", // the first Add's
		"expires_at_ms": "N:1795608060000",
		"nonce":         item["nonce"],
	}
	if fmt.Sprint(item) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", item, want)
	}
}

// defaultClientChild is set in the environment of the process of its own
// that TestDefaultClient runs its check in.
const defaultClientChild = "FUNCIFY_TEST_DEFAULT_CLIENT_CHILD"

// TestDefaultClient builds the process's client from the environment that
// the Lambda runtime sets, with the endpoint overridden to dynalite.
// DefaultClient keeps the client it builds for the life of the process, so
// a second run of the test in the same process (go test -count=2) would get
// the first run's client, whose dynalite has stopped: the check runs in a
// new process of its own each time, the test binary run again for this
// test alone.
func TestDefaultClient(t *testing.T) {
	if os.Getenv(defaultClientChild) != "" {
		checkDefaultClient(t)
		return
	}
	endpoint := testenv.Dynalite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDefaultClient$", "-test.count=1", "-test.v", "-test.timeout=50s")
	cmd.Env = append(os.Environ(), // the last value of a variable is the one used
		defaultClientChild+"=1",
		"AWS_REGION="+testenv.DynaliteRegion,
		"AWS_ACCESS_KEY_ID=AKIDFUNCIFYTEST",
		"AWS_SECRET_ACCESS_KEY=funcify-test-secret",
		"AWS_SESSION_TOKEN=",
		awsclient.EnvEndpointDynamoDB+"="+endpoint,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the check in a process of its own: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestDefaultClient")) {
		t.Fatalf("the process of its own did not run the check:\n%s", out)
	}
}

// checkDefaultClient is TestDefaultClient's check, in a process whose
// environment is the Lambda runtime's, with the endpoint of a dynalite.
func checkDefaultClient(t *testing.T) {
	endpoint := os.Getenv(awsclient.EnvEndpointDynamoDB)
	ctx := context.Background()
	c, err := dynamostore.DefaultClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := dynamostore.DefaultClient(ctx); again != c || err != nil {
		t.Fatalf("second call: got %p, %v, want the first client %p", again, err, c)
	}
	if got := aws.ToString(c.Options().BaseEndpoint); got != endpoint {
		t.Errorf("endpoint: got %q, want %q", got, endpoint)
	}
	s := dynamostore.New(c, newTable(t, c))
	if v, err := s.CompareAndSet(ctx, "k", 0, []byte("x"), 0); err != nil || v == 0 {
		t.Fatalf("CompareAndSet: got %d, %v", v, err)
	}
}

// dropProxy is an HTTP proxy on loopback in front of a DynamoDB endpoint.
// It forwards every request and passes the reply back, except for the first
// drop replies to requests of the given operation: those it forwards, so
// that the server applies them, and then closes the connection without a
// reply, as a network that loses a reply would.
//
// With returnOld, it adds to a ConditionalCheckFailedException the item
// that failed the condition, as DynamoDB does for a request with
// ReturnValuesOnConditionCheckFailure and dynalite does not.
//
// With swallow set, a request whose reply would be dropped is not forwarded
// at all: swallow runs instead, and the proxy answers 500, which the SDK
// retries, as a request lost on the way would be.
type dropProxy struct {
	target, op string
	returnOld  bool
	swallow    func()
	drop       atomic.Int64 // replies still to drop
	seen       atomic.Int64 // requests of op forwarded
	gets       atomic.Int64 // GetItem requests forwarded
}

func newDropProxy(t *testing.T, target, op string, drop int64) (*dropProxy, string) {
	p := &dropProxy{target: target, op: "DynamoDB_20120810." + op}
	p.drop.Store(drop)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *dropProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if p.swallow != nil && r.Header.Get("X-Amz-Target") == p.op {
		p.seen.Add(1)
		if p.drop.Add(-1) >= 0 {
			p.swallow()
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"try again"}`))
			return
		}
		p.seen.Add(-1) // counted again below
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if target == "DynamoDB_20120810.GetItem" {
		p.gets.Add(1)
	}
	if p.returnOld && resp.StatusCode == http.StatusBadRequest && bytes.Contains(reply, []byte("ConditionalCheckFailedException")) {
		reply = p.withOldItem(r.Header, body, reply)
	}
	if target == p.op {
		p.seen.Add(1)
		if p.drop.Add(-1) >= 0 {
			// Applied by the server; the reply is lost on the way back.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.Header().Del("X-Amz-Crc32")
	w.WriteHeader(resp.StatusCode)
	w.Write(reply)
}

// withOldItem returns the error reply to the PutItem request with the item
// now stored at its key added, read from the server.
func (p *dropProxy) withOldItem(header http.Header, request, reply []byte) []byte {
	var put struct {
		TableName string
		Item      map[string]json.RawMessage
	}
	var failure map[string]json.RawMessage
	if json.Unmarshal(request, &put) != nil || json.Unmarshal(reply, &failure) != nil {
		return reply
	}
	get, _ := json.Marshal(map[string]any{"TableName": put.TableName, "Key": map[string]json.RawMessage{"pk": put.Item["pk"]}, "ConsistentRead": true})
	req, err := http.NewRequest(http.MethodPost, p.target+"/", bytes.NewReader(get))
	if err != nil {
		return reply
	}
	req.Header = header.Clone()
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return reply
	}
	defer resp.Body.Close()
	var got struct{ Item json.RawMessage }
	if json.NewDecoder(resp.Body).Decode(&got) != nil || got.Item == nil {
		return reply
	}
	failure["Item"] = got.Item
	out, err := json.Marshal(failure)
	if err != nil {
		return reply
	}
	return out
}

// TestLostReply is the regression test for a store that reported its own
// write as a conflict: DynamoDB applied a conditional PutItem, its reply was
// lost, the SDK sent it again, and the condition then failed on the very
// item the first attempt had written.
func TestLostReply(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	direct := testenv.DynamoDBClient(endpoint)
	table := newTable(t, direct)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tt := range []struct {
		name      string
		create    bool // the write creates the key (version 0)
		returnOld bool // the server returns the item that failed the condition
		wantGets  int64
	}{
		{"create", true, false, 1},
		{"update", false, false, 1},
		{"create/old item returned", true, true, 0},
		{"update/old item returned", false, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var version int64
			if !tt.create {
				v, err := dynamostore.New(direct, table).CompareAndSet(ctx, tt.name, 0, []byte("before"), 0)
				if err != nil {
					t.Fatal(err)
				}
				version = v
			}
			proxy, url := newDropProxy(t, endpoint, "PutItem", 1)
			proxy.returnOld = tt.returnOld
			s := dynamostore.New(testenv.DynamoDBClient(url), table) // the SDK's default retryer
			v, err := s.CompareAndSet(ctx, tt.name, version, []byte("mine"), time.Hour)
			if n := proxy.seen.Load(); n != 2 {
				t.Fatalf("the proxy forwarded %d PutItem requests, want 2: the first, whose reply it dropped, and the SDK's retry", n)
			}
			if err != nil {
				t.Fatalf("CompareAndSet whose first reply was lost: got %v, want the version it wrote", err)
			}
			if n := proxy.gets.Load(); n != tt.wantGets {
				t.Errorf("the store read the item %d times, want %d", n, tt.wantGets)
			}
			it, err := dynamostore.New(direct, table).Get(ctx, tt.name)
			if err != nil || it.Version != v || string(it.Value) != "mine" {
				t.Fatalf("Get: got %+v, %v; want version %d, value mine", it, err, v)
			}
		})
	}

	// The PutItem that creates a counter: its retry must not add again.
	t.Run("counter", func(t *testing.T) {
		proxy, url := newDropProxy(t, endpoint, "PutItem", 1)
		s := dynamostore.New(testenv.DynamoDBClient(url), table)
		n, err := s.Add(ctx, "counter", 5, time.Hour)
		if got := proxy.seen.Load(); got != 2 {
			t.Fatalf("the proxy forwarded %d PutItem requests, want 2", got)
		}
		if err != nil || n != 5 {
			t.Fatalf("Add whose creating PutItem lost its first reply: got %d, %v; want 5", n, err)
		}
		if n, err := dynamostore.New(direct, table).Add(ctx, "counter", 0, 0); err != nil || n != 5 {
			t.Fatalf("the counter holds %d, %v; want 5", n, err)
		}
	})

	// The retry of a write that never reached the server finds another
	// writer's item, written from the same version: the very version this
	// call would have written. Only the nonce tells the two apart.
	t.Run("other writer of the same version", func(t *testing.T) {
		for _, returnOld := range []bool{false, true} {
			t.Run(fmt.Sprintf("old item returned=%v", returnOld), func(t *testing.T) {
				key := t.Name()
				other := dynamostore.New(direct, table)
				v, err := other.CompareAndSet(ctx, key, 0, []byte("before"), 0)
				if err != nil {
					t.Fatal(err)
				}
				proxy, url := newDropProxy(t, endpoint, "PutItem", 1)
				proxy.returnOld = returnOld
				proxy.swallow = func() {
					if _, err := other.CompareAndSet(ctx, key, v, []byte("theirs"), 0); err != nil {
						t.Errorf("the other writer: %v", err)
					}
				}
				s := dynamostore.New(testenv.DynamoDBClient(url), table)
				got, err := s.CompareAndSet(ctx, key, v, []byte("mine"), 0)
				if n := proxy.seen.Load(); n != 2 {
					t.Fatalf("the proxy saw %d PutItem requests, want 2", n)
				}
				it, gerr := other.Get(ctx, key)
				if gerr != nil || string(it.Value) != "theirs" || it.Version != v+1 {
					t.Fatalf("stored %+v, %v; want the other writer's value at version %d", it, gerr, v+1)
				}
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("CompareAndSet that lost to another writer of the same version: got version %d, %v; want ErrConflict", got, err)
				}
			})
		}
	})

	// The same for the PutItem that creates a counter: another instance
	// created it meanwhile, and this Add adds to theirs.
	t.Run("counter created by another writer", func(t *testing.T) {
		other := dynamostore.New(direct, table)
		proxy, url := newDropProxy(t, endpoint, "PutItem", 1)
		proxy.swallow = func() {
			if _, err := other.Add(ctx, "other counter", 7, time.Hour); err != nil {
				t.Errorf("the other writer: %v", err)
			}
		}
		n, err := dynamostore.New(testenv.DynamoDBClient(url), table).Add(ctx, "other counter", 5, time.Hour)
		if got := proxy.seen.Load(); got != 2 {
			t.Fatalf("the proxy saw %d PutItem requests, want 2", got)
		}
		if err != nil || n != 12 {
			t.Fatalf("Add whose create lost to another writer's: got %d, %v; want 12", n, err)
		}
	})

	// A Delete leaves no item to recognise: its retry finds the key absent
	// and reports a conflict, as the package documentation says. The key
	// is gone all the same.
	t.Run("delete", func(t *testing.T) {
		v, err := dynamostore.New(direct, table).CompareAndSet(ctx, "deleted", 0, []byte("x"), 0)
		if err != nil {
			t.Fatal(err)
		}
		proxy, url := newDropProxy(t, endpoint, "DeleteItem", 1)
		err = dynamostore.New(testenv.DynamoDBClient(url), table).Delete(ctx, "deleted", v)
		if n := proxy.seen.Load(); n != 2 {
			t.Fatalf("the proxy forwarded %d DeleteItem requests, want 2", n)
		}
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("Delete whose reply was lost: got %v, want ErrConflict, as documented", err)
		}
		if it, err := dynamostore.New(direct, table).Get(ctx, "deleted"); err != nil || it.Version != 0 {
			t.Fatalf("Get after the Delete: got %+v, %v; want the key absent", it, err)
		}
	})

	// Another writer's item is still a conflict, after a retry as well.
	t.Run("conflict", func(t *testing.T) {
		if _, err := dynamostore.New(direct, table).CompareAndSet(ctx, "taken", 0, []byte("theirs"), 0); err != nil {
			t.Fatal(err)
		}
		proxy, url := newDropProxy(t, endpoint, "PutItem", 1)
		s := dynamostore.New(testenv.DynamoDBClient(url), table)
		if _, err := s.CompareAndSet(ctx, "taken", 0, []byte("mine"), 0); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CompareAndSet over another writer's item: got %v, want ErrConflict", err)
		}
		if n := proxy.seen.Load(); n != 2 {
			t.Fatalf("the proxy forwarded %d PutItem requests, want 2", n)
		}
		if it, err := dynamostore.New(direct, table).Get(ctx, "taken"); err != nil || string(it.Value) != "theirs" {
			t.Fatalf("Get: got %+v, %v; want the other writer's value", it, err)
		}
	})
}

// TestNewPanics: New panics at once on a positional argument that can
// never work, as ssmstore, redisstore, ssmparam and secrets do.
func TestNewPanics(t *testing.T) {
	c := dynamodb.New(dynamodb.Options{Region: "us-east-1"})
	tests := []struct {
		name   string
		client dynamostore.Client
		table  string
		want   string
	}{
		{"nil client", nil, "t", "dynamostore: New with a nil client"},
		{"empty table", c, "", "dynamostore: New with an empty table name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tt.want {
					t.Errorf("got panic %v, want %s", r, tt.want)
				}
			}()
			dynamostore.New(tt.client, tt.table)
		})
	}
}
