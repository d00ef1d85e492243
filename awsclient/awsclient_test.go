package awsclient_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/funcify/funcify/awsclient"
	"github.com/funcify/funcify/internal/awsfake"
)

var srv *awsfake.Server

func TestMain(m *testing.M) {
	srv = awsfake.Start()
	srv.SetEnv()
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

func TestCanceledContextNotKept(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Whether or not another test loaded it first, a cancelled ctx must
	// not leave a broken configuration behind.
	_, _ = awsclient.Config(ctx)
	if _, err := awsclient.Config(context.Background()); err != nil {
		t.Fatalf("Config after a cancelled load: %v", err)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	cfg, err := awsclient.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" {
		t.Errorf("region: got %q, want us-east-1", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDFAKE" || creds.SecretAccessKey != "fake-secret" {
		t.Errorf("credentials: got %q, %q, want the environment's", creds.AccessKeyID, creds.SecretAccessKey)
	}
}

func TestSetLoaderAfterUsePanics(t *testing.T) {
	if _, err := awsclient.Config(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("SetLoader after Config did not panic")
		}
	}()
	awsclient.SetLoader(func(context.Context) (aws.Config, error) { return aws.Config{}, nil })
}

func newSSM(cfg aws.Config, endpoint string) *ssm.Client {
	return ssm.NewFromConfig(cfg, func(o *ssm.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

func TestClientBuiltOnceWithEndpoint(t *testing.T) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var builds sync.Map
	clients := make(chan *ssm.Client, 10)
	for i := range 10 {
		wg.Go(func() {
			c, err := awsclient.Client(ctx, "test-ssm", func(cfg aws.Config, endpoint string) *ssm.Client {
				builds.Store(i, true)
				return newSSM(cfg, srv.URL)
			})
			if err != nil {
				t.Error(err)
			}
			clients <- c
		})
	}
	wg.Wait()
	close(clients)
	first := <-clients
	for c := range clients {
		if c != first {
			t.Fatal("Client built more than one client")
		}
	}
	n := 0
	builds.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("build called %d times, want 1", n)
	}
	// The client works, signed, against the fake.
	srv.SetParameter("/t/k", "String", "v")
	out, err := first.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/t/k")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Parameter.Value); got != "v" {
		t.Errorf("got %q, want v", got)
	}
}

func TestClientEndpoint(t *testing.T) {
	t.Setenv("FUNCIFY_ENDPOINT_TEST_ENDPOINT", "http://127.0.0.1:1")
	tests := []struct{ service, want string }{
		{"test-endpoint", "http://127.0.0.1:1"},
		{"test-no-endpoint", ""},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			got, err := awsclient.Client(context.Background(), tt.service, func(_ aws.Config, endpoint string) string { return endpoint })
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v, want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestClientTypeMismatch(t *testing.T) {
	ctx := context.Background()
	if _, err := awsclient.Client(ctx, "test-mismatch", func(aws.Config, string) int { return 1 }); err != nil {
		t.Fatal(err)
	}
	if _, err := awsclient.Client(ctx, "test-mismatch", func(aws.Config, string) string { return "" }); err == nil {
		t.Error("a client of another type for the same service: got no error")
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ service, env string }{
		{"ssm", awsclient.EnvEndpointSSM},
		{"secretsmanager", awsclient.EnvEndpointSecretsManager},
		{"dynamodb", awsclient.EnvEndpointDynamoDB},
		{"DynamoDB", awsclient.EnvEndpointDynamoDB},
		{"sts-regional", "FUNCIFY_ENDPOINT_STS_REGIONAL"},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			t.Setenv(tt.env, "http://"+tt.service)
			if got := awsclient.Endpoint(tt.service); got != "http://"+tt.service {
				t.Errorf("Endpoint(%q): got %q, want the value of %s", tt.service, got, tt.env)
			}
		})
	}
}

func ExampleClient() {
	ctx := context.Background()
	// In a function, the SSM endpoint is AWS's; here FUNCIFY_ENDPOINT_SSM
	// points at a fake.
	client, err := awsclient.Client(ctx, "ssm", func(cfg aws.Config, endpoint string) *ssm.Client {
		return ssm.NewFromConfig(cfg, func(o *ssm.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		})
	}) // built once, on first use
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.SetParameter("/example/greeting", "String", "hello")
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/example/greeting")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(aws.ToString(out.Parameter.Value))
	// Output: hello
}

func ExampleConfig() {
	cfg, err := awsclient.Config(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Region)
	// Output: us-east-1
}
