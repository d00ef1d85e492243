package retry

import (
	"math"
	"strings"
	"time"
)

// httpDateLayouts are the three HTTP-date formats that RFC 9110, section
// 5.6.7, requires a recipient to accept, preferred first.
var httpDateLayouts = [...]string{
	"Mon, 02 Jan 2006 15:04:05 GMT",  // IMF-fixdate
	"Monday, 02-Jan-06 15:04:05 GMT", // obsolete RFC 850 format
	time.ANSIC,                       // obsolete asctime format
}

// ParseRetryAfter parses the value of an HTTP Retry-After header (RFC 9110,
// section 10.2.3) into the delay to wait from now. The value is either
// delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT");
// a date that has passed gives 0. Surrounding spaces and tabs are ignored.
// It reports false, with 0, for an empty or malformed value, including a
// negative or fractional number. A number of seconds too large for a
// time.Duration gives the largest one.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	v := strings.Trim(value, " \t")
	if v == "" {
		return 0, false
	}
	if secs, ok := parseSeconds(v); ok {
		return secs, true
	}
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	return 0, false
}

// parseSeconds parses a non-empty string of ASCII digits as a number of
// seconds, saturating at the largest time.Duration.
func parseSeconds(s string) (time.Duration, bool) {
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= maxSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	if n > maxSeconds {
		return math.MaxInt64, true
	}
	return time.Duration(n) * time.Second, true
}
