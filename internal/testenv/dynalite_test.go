package testenv

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestDynalite(t *testing.T) {
	// Two servers at once, each with a table of the same name: they share
	// nothing.
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := DynamoDBClient(Dynalite(t))
			createTable(t, c, "things")
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String("things"),
				Item: map[string]types.AttributeValue{
					"pk":  &types.AttributeValueMemberS{Value: "who"},
					"val": &types.AttributeValueMemberS{Value: name},
				},
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			})
			if err != nil {
				t.Fatalf("PutItem: %v", err)
			}
			out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
				TableName:      aws.String("things"),
				Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "who"}},
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				t.Fatalf("GetItem: %v", err)
			}
			if v, ok := out.Item["val"].(*types.AttributeValueMemberS); !ok || v.Value != name {
				t.Errorf("got item %v, want val %q", out.Item, name)
			}
		})
	}
}

func TestDynaliteStop(t *testing.T) {
	s := StartDynalite(t)
	c := DynamoDBClient(s.Endpoint, func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} })
	ctx := context.Background()
	if _, err := c.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables before Stop: %v", err)
	}
	s.Stop()
	s.Stop() // a second Stop, and the cleanup after it, do nothing
	start := time.Now()
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err == nil {
		t.Fatal("ListTables after Stop: got no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ListTables after Stop took %v, want a prompt failure", d)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(s.Endpoint, "http://"), time.Second); err == nil {
		t.Errorf("%s still accepts connections after Stop", s.Endpoint)
	}
}

// TestDynaliteMissing checks the skip, and its install command, when the
// module root holds no installed dynalite.
func TestDynaliteMissing(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "go.mod"), "module example.com/m\n")
	mustWrite(t, filepath.Join(root, dynaliteDir, "package.json"), "{}\n")
	sub := filepath.Join(root, "store", "x")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	t.Setenv(requireEnv, "")
	r := &recorder{TB: t}
	if s := StartDynalite(r); s != nil {
		t.Fatalf("StartDynalite started %s without an installed dynalite", s.Endpoint)
	}
	if !strings.Contains(r.skipped, DynaliteInstall) || !strings.Contains(r.skipped, filepath.Join(root, dynaliteDir)) {
		t.Errorf("skip message %q does not name the folder and the install command %q", r.skipped, DynaliteInstall)
	}
}

func createTable(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	// With the CREATING delay turned off the table turns ACTIVE a moment
	// after CreateTable returns.
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeTable: %v", err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
