package ssmparam_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/ssmparam"
)

var srv *awsfake.Server

// TestMain points the package-level functions, through FUNCIFY_ENDPOINT_*
// and the AWS_* variables that package awsclient reads, at a fake
// Parameter Store.
func TestMain(m *testing.M) {
	srv = awsfake.Start()
	srv.SetEnv()
	srv.SetParameter("/orders/prod/db/url", "SecureString", "postgres://db.internal/orders")
	srv.SetParameter("/orders/prod/log-level", "String", "debug")
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

func ExampleLoadEnv() {
	ctx := context.Background()
	if err := ssmparam.LoadEnv(ctx, "/orders/prod", ssmparam.WithFullPath(), ssmparam.WithPrefix("ORDERS_")); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(os.Getenv("ORDERS_DB_URL"))
	fmt.Println(os.Getenv("ORDERS_LOG_LEVEL"))
	// Output:
	// postgres://db.internal/orders
	// debug
}

func ExampleGet() {
	v, err := ssmparam.Get(context.Background(), "/orders/prod/log-level")
	fmt.Println(v, err)
	// Output: debug <nil>
}

func ExamplePut() {
	ctx := context.Background()
	if err := ssmparam.Put(ctx, "/orders/prod/api-key", "k-123"); err != nil {
		fmt.Println(err)
		return
	}
	_, typ, _, _ := srv.Parameter("/orders/prod/api-key")
	fmt.Println(typ)
	// Output: SecureString
}

func ExampleNew() {
	ctx := context.Background()
	api, err := ssmparam.DefaultAPI(ctx) // or ssm.NewFromConfig(cfg) of your own
	if err != nil {
		fmt.Println(err)
		return
	}
	var _ ssmparam.API = (*ssm.Client)(nil)
	params := ssmparam.New(api, ssmparam.WithTTL(0))
	v, err := params.Get(ctx, "/orders/prod/db/url")
	fmt.Println(len(v) > 0, err)
	// Output: true <nil>
}
