package logging_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/funcify/funcify/logging"
)

const password = "hunter2"

func TestSecretFmt(t *testing.T) {
	s := logging.Secret(password)
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%T %v"} {
		got := fmt.Sprintf(format, s)
		if strings.Contains(got, password) || strings.Contains(got, fmt.Sprintf("%x", password)) {
			t.Errorf("Sprintf(%q) = %q, leaks the secret", format, got)
		}
	}
	if got := fmt.Sprint(s); got != "[REDACTED]" {
		t.Errorf("Sprint() = %q, want %q", got, "[REDACTED]")
	}
	if got := s.String(); got != "[REDACTED]" {
		t.Errorf("String() = %q, want %q", got, "[REDACTED]")
	}
	if got := string(s); got != password {
		t.Errorf("string(Secret) = %q, want the value %q", got, password)
	}
}

type credentials struct {
	User     string
	Password logging.Secret
}

func TestSecretSlog(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
	}{
		{"key-value", func(l *slog.Logger) { l.Info("m", "password", logging.Secret(password)) }},
		{"Any", func(l *slog.Logger) { l.Info("m", slog.Any("password", logging.Secret(password))) }},
		{"With", func(l *slog.Logger) { l.With("password", logging.Secret(password)).Info("m") }},
		{"in a group", func(l *slog.Logger) { l.Info("m", slog.Group("g", "password", logging.Secret(password))) }},
		{"struct field", func(l *slog.Logger) { l.Info("m", "creds", credentials{"ann", password}) }},
		{"map value", func(l *slog.Logger) {
			l.Info("m", "creds", map[string]logging.Secret{"password": password})
		}},
	}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	}
	for hname, newHandler := range handlers {
		for _, tt := range tests {
			t.Run(hname+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				tt.log(slog.New(logging.NewHandler(newHandler(&buf))))
				if strings.Contains(buf.String(), password) {
					t.Errorf("output leaks the secret: %s", buf.Bytes())
				}
				if !strings.Contains(buf.String(), "[REDACTED]") {
					t.Errorf("output has no [REDACTED]: %s", buf.Bytes())
				}
			})
		}
	}
}

func TestSecretJSON(t *testing.T) {
	b, err := json.Marshal(credentials{"ann", password})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"User":"ann","Password":"[REDACTED]"}`; got != want {
		t.Errorf("json.Marshal() = %s, want %s", got, want)
	}
	// Decoding still fills in the value.
	var c credentials
	if err := json.Unmarshal([]byte(`{"User":"ann","Password":"hunter2"}`), &c); err != nil {
		t.Fatal(err)
	}
	if string(c.Password) != password {
		t.Errorf("json.Unmarshal() Password = %q, want %q", string(c.Password), password)
	}
}
