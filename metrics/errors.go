package metrics

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrNoMetrics is returned by [Add], [AddDimension] and [AddMetadata] when
// their context carries no metrics of a running invocation: a context from
// outside an invocation, from an app without an [Emitter] among its
// observers, or from an invocation that has already ended (a goroutine that
// outlived its invocation). The value is not recorded.
var ErrNoMetrics = errors.New("metrics: no metrics in the context (not within an invocation that an Emitter observes)")

// errEnded is ErrNoMetrics for an invocation that has ended.
var errEnded = fmt.Errorf("%w: the invocation has ended", ErrNoMetrics)

// ErrInvalid matches (with errors.Is) every error that says a call would
// break CloudWatch's or EMF's rules: a bad name, unit, value or dimension,
// too many dimensions, or a metric added again with another unit or
// resolution. The call that returns it records nothing; its message says
// what was wrong.
var ErrInvalid = errors.New("metrics: invalid")

// invalidError is an error that matches ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return "metrics: " + e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// CloudWatch's and EMF's limits.
const (
	maxNameLen       = 255  // metric, dimension and namespace names and metadata keys, in characters
	maxDimValueLen   = 1024 // a dimension value, in characters
	maxDimensions    = 30   // dimensions in one EMF DimensionSet
	maxMetricsPerDoc = 100  // metric definitions in one EMF document
	maxValuesPerDoc  = 100  // values of one metric in one EMF document
)

// The magnitudes CloudWatch takes, besides zero: PutMetricData's
// reference gives the range as 8.515920e-109 to 1.174271e+108 in base 10
// (about 2^-359 to 2^359) and as 2^-360 to 2^360 in base 2. The base-10
// figures are the narrower, so a value within them is taken whichever
// reading CloudWatch follows.
const (
	minValue = 8.515920e-109
	maxValue = 1.174271e+108
)

// reserved is the member of an EMF document that its own names must not
// take.
const reserved = "_aws"

// short quotes s for an error message, cut to a readable length.
func short(s string) string {
	const n = 40
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// checkMetricName says why CloudWatch would refuse name as a metric name:
// empty, over 255 characters, not UTF-8, with a control character, blank,
// or EMF's own "_aws".
func checkMetricName(name string) error {
	if plainASCII(name) && len(name) <= maxNameLen && name != reserved {
		return nil // the common case, checked in one pass
	}
	switch {
	case name == "":
		return invalid("empty metric name")
	case !utf8.ValidString(name):
		return invalid("metric name %s is not valid UTF-8", short(name))
	case utf8.RuneCountInString(name) > maxNameLen:
		return invalid("metric name %s is longer than %d characters", short(name), maxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalid("metric name %s has a control character", short(name))
	case strings.TrimSpace(name) == "":
		return invalid("metric name %s is blank", short(name))
	case name == reserved:
		return invalid("metric name %q is EMF's own member", name)
	}
	return nil
}

// plainASCII reports whether s is printable ASCII with a character other
// than a space.
func plainASCII(s string) bool {
	blank := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
		if c != ' ' {
			blank = false
		}
	}
	return !blank
}

// checkASCII says why CloudWatch would refuse s as a dimension's name or
// value, or a namespace (what names it): empty, over max characters, not
// ASCII, with a control character, or blank.
func checkASCII(what, s string, max int) error {
	if s == "" {
		return invalid("empty %s", what)
	}
	if len(s) > max {
		return invalid("%s %s is longer than %d characters", what, short(s), max)
	}
	blank := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return invalid("%s %s is not ASCII, as CloudWatch requires", what, short(s))
		case c < 0x20 || c == 0x7f:
			return invalid("%s %s has a control character", what, short(s))
		case c != ' ':
			blank = false
		}
	}
	if blank {
		return invalid("%s %s is blank", what, short(s))
	}
	return nil
}

// checkDimension says why CloudWatch would refuse a dimension.
func checkDimension(name, value string) error {
	if err := checkASCII("dimension name", name, maxNameLen); err != nil {
		return err
	}
	if name[0] == ':' {
		return invalid("dimension name %s starts with a colon", short(name))
	}
	if name == reserved {
		return invalid("dimension name %q is EMF's own member", name)
	}
	if err := checkASCII("value of dimension "+short(name)+":", value, maxDimValueLen); err != nil {
		return err
	}
	return nil
}

// checkNamespace says why CloudWatch would refuse ns as a namespace.
func checkNamespace(ns string) error {
	if ns == "" {
		return invalid("no namespace: give WithNamespace or set POWERTOOLS_METRICS_NAMESPACE")
	}
	if err := checkASCII("namespace", ns, maxNameLen); err != nil {
		return err
	}
	if ns[0] == ':' {
		return invalid("namespace %s starts with a colon", short(ns))
	}
	if strings.HasPrefix(ns, "AWS/") {
		return invalid("namespace %s: AWS/ is reserved for AWS's own metrics", short(ns))
	}
	return nil
}
