package ssmstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/funcify/funcify/internal/awsfake"
	"github.com/funcify/funcify/ssmparam"
	"github.com/funcify/funcify/store"
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

func ExampleWithTier() {
	ctx := context.Background()
	api, err := ssmparam.DefaultAPI(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A Standard parameter holds 4 KB: a 5 KB value is refused before any
	// request. WithTier(types.ParameterTierAdvanced) gives 8 KB.
	s := ssmstore.New(api, "/orders/prod/state", ssmstore.WithTier(types.ParameterTierStandard))
	_, err = s.CompareAndSet(ctx, "big", 0, make([]byte, 5000), 0)
	fmt.Println(errors.Is(err, ssmstore.ErrTooLarge), errors.Is(err, store.ErrTooLarge))
	fmt.Println(err)
	// Output:
	// true true
	// ssmstore: value too large for the parameter tier: key "big": 5000 bytes of value take up to 6725 bytes in a parameter, over the 4096 bytes of the Standard tier
}
