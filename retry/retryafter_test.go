package retry_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/funcify/funcify/retry"
)

var refTime = time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"zero seconds", "0", 0, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"surrounding spaces and tabs", " \t5 ", 5 * time.Second, true},
		{"largest seconds", "9223372036", 9223372036 * time.Second, true},
		{"too many seconds saturate", "9223372037", math.MaxInt64, true},
		{"far too many seconds saturate", strings.Repeat("9", 40), math.MaxInt64, true},
		{"IMF-fixdate", "Wed, 21 Oct 2015 07:28:30 GMT", 30 * time.Second, true},
		{"RFC 850 date", "Wednesday, 21-Oct-15 07:30:00 GMT", 2 * time.Minute, true},
		{"asctime date", "Wed Oct 21 08:28:00 2015", time.Hour, true},
		{"asctime date with a one-digit day", "Sun Nov  1 07:28:00 2015", 11 * 24 * time.Hour, true},
		{"date now", "Wed, 21 Oct 2015 07:28:00 GMT", 0, true},
		{"past date", "Wed, 21 Oct 2015 07:27:00 GMT", 0, true},
		{"long past date", "Sun, 06 Nov 1994 08:49:37 GMT", 0, true},
		{"empty", "", 0, false},
		{"spaces only", "   ", 0, false},
		{"garbage", "soon", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"unit", "5s", 0, false},
		{"inner space", "1 2", 0, false},
		{"non-ASCII digit", "١٢", 0, false},
		{"date in another zone", "Wed, 21 Oct 2015 07:28:30 PST", 0, false},
		{"date with a numeric zone", "Wed, 21 Oct 2015 07:28:30 +0000", 0, false},
		{"RFC 3339", "2015-10-21T07:28:30Z", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := retry.ParseRetryAfter(tt.value, refTime)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %v, want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// FuzzParseRetryAfter checks that ParseRetryAfter never panics, never
// returns a negative delay, returns 0 when it fails, and accepts every
// string of ASCII digits.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{
		"", "0", "120", " 5 ", "-5", "1.5", strings.Repeat("9", 30),
		"Wed, 21 Oct 2015 07:28:30 GMT", "Wednesday, 21-Oct-15 07:30:00 GMT",
		"Wed Oct 21 08:28:00 2015", "Sun, 06 Nov 1994 08:49:37 GMT", "garbage",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := retry.ParseRetryAfter(s, refTime)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, a negative delay", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, false, want 0 on failure", s, d)
		}
		v := strings.Trim(s, " \t")
		digits := v != ""
		for _, c := range []byte(v) {
			digits = digits && c >= '0' && c <= '9'
		}
		if digits && !ok {
			t.Fatalf("ParseRetryAfter(%q) failed on delta-seconds", s)
		}
	})
}
