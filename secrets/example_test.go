package secrets_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/retry"
	"github.com/funcify/funcify/secrets"
)

// TestMain points the package-level functions, through FUNCIFY_ENDPOINT_*
// and the AWS_* variables that package awsclient reads, at a fake
// Secrets Manager.
func TestMain(m *testing.M) {
	srv := awsfake.Start()
	srv.SetEnv()
	srv.SetSecretString("orders/api-key", "k-123")
	srv.SetSecretString("orders/db", `{"username":"orders","password":"pw"}`)
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

func ExampleGet() {
	key, err := secrets.Get(context.Background(), "orders/api-key")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(string(key))) // string(key) is the value
	fmt.Println(key)              // printed and logged redacted
	slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})).Info("loaded", "key", key)
	// Output:
	// 5
	// [REDACTED]
	// level=INFO msg=loaded key=[REDACTED]
}

func ExampleGetJSON() {
	type dbCreds struct{ Username, Password string }
	creds, err := secrets.GetJSON[dbCreds](context.Background(), "orders/db")
	fmt.Println(creds.Username, err)
	// Output: orders <nil>
}

func ExampleNew() {
	ctx := context.Background()
	api, err := secrets.DefaultAPI(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := secrets.New(api, secrets.WithTTL(0))
	var creds struct{ Username string }
	err = c.GetJSON(ctx, "orders/db", &creds)
	fmt.Println(creds.Username, err)
	// Output: orders <nil>
}

func ExampleWithRetry() {
	ctx := context.Background()
	api, err := secrets.DefaultAPI(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Two tries at most; the second only if, after its wait, at least
	// 200 ms are left before the caller's deadline.
	c := secrets.New(api, secrets.WithRetry(retry.WithMaxTries(2), retry.WithMinAttemptTime(200*time.Millisecond)))
	key, err := c.Get(ctx, "orders/api-key")
	fmt.Println(len(string(key)), err)
	// Output: 5 <nil>
}
