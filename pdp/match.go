package pdp

import (
	"errors"
	"strings"
)

// ErrMalformed is matched by the errors [Activity] returns for a malformed
// required activity or namespace.
var ErrMalformed = errors.New("pdp: malformed")

// Match reports whether grant admits the required activity.
//
// Both are activities of one or more segments separated by ':'. They are
// compared segment by segment, exactly (case-sensitive, byte for byte). In
// the grant, a segment that is exactly "*" matches any one segment, and a
// final "*" matches all the remaining segments, of which there must be at
// least one: "orders:*" admits "orders:order:read" and "orders:x" but not
// "orders". A grant of "*" alone admits every well-formed activity.
//
// required must be concrete: a required activity with a '*' in it, an empty
// segment (an empty string, a leading or trailing ':', "::"), or a space or
// ASCII control character never matches; [Activity] reports it as an error.
// A grant segment that could not appear in a required activity, such as
// "ord*" or "", matches nothing.
//
// Match runs in time linear in len(grant)+len(required), whatever the number
// of '*' segments, and allocates nothing.
func Match(grant, required string) bool {
	_, why := checkActivity(required)
	return why == "" && match(grant, required)
}

// match is Match for a required activity known to be well formed. It walks
// both strings once, one segment of each per step: a '*' matches exactly one
// segment (or, last, the rest), so there is never anything to backtrack to.
func match(grant, required string) bool {
	for {
		g, grest, gmore := cut(grant)
		r, rrest, rmore := cut(required)
		if g == "*" {
			if !gmore {
				return true // a final '*': required has this segment, so one or more remain
			}
		} else if g != r {
			return false
		}
		if !gmore || !rmore {
			return gmore == rmore
		}
		grant, required = grest, rrest
	}
}

// cut returns the first segment of s, what follows its ':', and whether
// there was a ':'.
func cut(s string) (seg, rest string, more bool) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// inNamespace reports whether grant's first segment is ns, as a whole
// segment: "orders:x" is in "orders", "orders2:x" and "order" are not.
func inNamespace(grant, ns string) bool {
	return strings.HasPrefix(grant, ns) && (len(grant) == len(ns) || grant[len(ns)] == ':')
}

// checkActivity returns what is wrong with s as a required activity and the
// 1-based segment where it is, or "". It allocates nothing.
func checkActivity(s string) (seg int, why string) {
	if s == "" {
		return 0, "empty"
	}
	seg, start := 1, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ':' {
			if i == start {
				return seg, "empty segment"
			}
			seg++
			start = i + 1
			continue
		}
		if why := checkByte(s[i]); why != "" {
			return seg, why
		}
	}
	return 0, ""
}

// checkSegment returns what is wrong with s as a namespace, or "".
func checkSegment(s string) string {
	if s == "" {
		return "empty"
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return "has a ':'"
		}
		if why := checkByte(s[i]); why != "" {
			return why
		}
	}
	return ""
}

func checkByte(c byte) string {
	switch {
	case c == '*':
		return "has a '*': required activities are concrete"
	case c <= ' ' || c == 0x7f:
		return "has a space or control character"
	}
	return ""
}
