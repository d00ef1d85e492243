package ssmstore_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/ssmparam"
	"github.com/funcify/funcify/store/ssmstore"
)

func TestMain(m *testing.M) {
	srv := awsfake.Start()
	srv.SetEnv()
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

func ExampleNew() {
	ctx := context.Background()
	api, err := ssmparam.DefaultAPI(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := ssmstore.New(api, "/orders/prod/state")
	v, err := s.CompareAndSet(ctx, "token", 0, []byte("eyJ..."), 0)
	fmt.Println(v, err)
	_, err = s.CompareAndSet(ctx, "token", 0, []byte("other"), 0)
	fmt.Println(err)
	it, err := s.Get(ctx, "token")
	fmt.Println(string(it.Value), it.Version, err)
	// Output:
	// 1 <nil>
	// store: version conflict
	// eyJ... 1 <nil>
}
