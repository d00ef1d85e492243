package awsclient

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantRegion string
		wantToken  string
		wantErr    []string // substrings of the error
	}{
		{"lambda", map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}, "eu-west-1", "tok", nil},
		{"default region", map[string]string{"AWS_DEFAULT_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s"}, "us-east-2", "", nil},
		{"no region", map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s"}, "", "", []string{"AWS_REGION", "AWS_DEFAULT_REGION"}},
		{"no secret", map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "id"}, "", "", []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SetLoader"}},
		{"nothing", nil, "", "", []string{"AWS_REGION", "AWS_ACCESS_KEY_ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := fromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got no error, want one naming %q", tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %s", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tt.wantRegion {
				t.Errorf("region: got %q, want %q", cfg.Region, tt.wantRegion)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "id" || creds.SecretAccessKey != "s" || creds.SessionToken != tt.wantToken {
				t.Errorf("credentials: got %+v, %v", creds, err)
			}
		})
	}
}

func TestFailedLoadNotKept(t *testing.T) {
	env := map[string]string{}
	h := &configHolder{getenv: func(k string) string { return env[k] }}
	if _, err := h.config(context.Background()); err == nil {
		t.Fatal("got no error with an empty environment")
	}
	env["AWS_REGION"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = "eu-west-1", "id", "s"
	cfg, err := h.config(context.Background())
	if err != nil || cfg.Region != "eu-west-1" {
		t.Fatalf("after the environment was fixed: got %q, %v", cfg.Region, err)
	}
	env["AWS_REGION"] = "us-west-2"
	if cfg, _ := h.config(context.Background()); cfg.Region != "eu-west-1" {
		t.Errorf("a loaded configuration was loaded again: got region %q", cfg.Region)
	}
}

func TestSetLoader(t *testing.T) {
	h := &configHolder{getenv: func(string) string { return "" }}
	calls := 0
	h.setLoader(func(ctx context.Context) (aws.Config, error) {
		calls++
		if calls == 1 {
			return aws.Config{}, errors.New("passing failure")
		}
		return aws.Config{Region: "custom"}, nil
	})
	if _, err := h.config(context.Background()); err == nil {
		t.Fatal("got no error from a failing loader")
	}
	for range 2 {
		if cfg, err := h.config(context.Background()); err != nil || cfg.Region != "custom" {
			t.Fatalf("got %q, %v, want the loader's configuration", cfg.Region, err)
		}
	}
	if calls != 2 {
		t.Errorf("loader called %d times, want 2", calls)
	}
}

// TestNoServiceDependencies keeps the package's import cost down: no
// service client and no config package, whose package init is heavy.
func TestNoServiceDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/funcify/funcify/awsclient").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, "github.com/aws/aws-sdk-go-v2/service/") || d == "github.com/aws/aws-sdk-go-v2/config" || strings.HasPrefix(d, "github.com/aws/aws-sdk-go-v2/config/") {
			t.Errorf("awsclient depends on %s", d)
		}
	}
}
