package errtype

import (
	"errors"
	"fmt"
	"testing"
)

type custom struct{}

func (custom) Error() string { return "custom" }

func TestName(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{errors.New("x"), "errorString"},
		{fmt.Errorf("w: %w", errors.New("x")), "wrapError"},
		{custom{}, "custom"},
		{&custom{}, "custom"},
		{"s", "string"},
		{42, "int"},
		{[]int{1}, "[]int"},
		{nil, "nil"},
	}
	for _, tt := range tests {
		if got := Name(tt.v); got != tt.want {
			t.Errorf("Name(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
