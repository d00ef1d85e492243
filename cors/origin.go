package cors

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// A pattern matches the origins of every subdomain of a host, at any
// depth, for one scheme and port: "https://*.example.com" holds prefix
// "https://" and suffix ".example.com".
type pattern struct {
	prefix string // scheme and "://"
	suffix string // "." host, then ":" port unless the scheme's default
}

// match reports whether origin, as a browser serializes it, is prefix, one
// or more DNS labels, then suffix. The labels cannot hold ':', '/', '@' or
// anything else that would move the host's end, so a match is a subdomain
// of the pattern's host on its scheme and port, never the host itself.
func (p pattern) match(origin string) bool {
	if len(origin) <= len(p.prefix)+len(p.suffix) ||
		!strings.HasPrefix(origin, p.prefix) || !strings.HasSuffix(origin, p.suffix) {
		return false
	}
	return validLabels(origin[len(p.prefix) : len(origin)-len(p.suffix)])
}

// validLabels reports whether s is one or more dot-separated labels of
// lower-case ASCII letters, digits, '-' and '_', each 1 to 63 bytes: the
// shape of a host name as browsers put it in an Origin header (lower case,
// internationalized names in their xn-- form).
func validLabels(s string) bool {
	n := 0 // length of the current label
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if n == 0 {
				return false
			}
			n = 0
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			n++
			if n > 63 {
				return false
			}
		default:
			return false
		}
	}
	return n > 0
}

// defaultPorts are the ports a browser leaves out of an origin.
var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}

// parseOrigin reads a configured origin, "scheme://host[:port]" or, with
// a first label "*", a pattern. It returns the origin as a browser would
// serialize it (scheme and host in lower case, an IP address in its
// canonical form, no default port), or the pattern.
func parseOrigin(s string) (origin string, p pattern, isPattern bool, err error) {
	switch s {
	case "":
		return "", p, false, errors.New("empty origin")
	case "null":
		return "", p, false, errors.New(`"null" is the origin of sandboxed frames, data: URLs and local files, which any page can create; it cannot be allowed`)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", p, false, errors.New("an origin is scheme://host[:port]")
	}
	scheme = strings.ToLower(scheme)
	if !validScheme(scheme) {
		return "", p, false, errors.New("malformed scheme")
	}
	if i := strings.IndexAny(rest, "/?#@\\"); i >= 0 {
		return "", p, false, errors.New("an origin has no path, query, fragment or user: it is scheme://host[:port]")
	}
	host, port := rest, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", p, false, errors.New("malformed IPv6 address")
		}
		host, port = host[:end+1], host[end+1:]
		if port != "" && port[0] != ':' {
			return "", p, false, errors.New("malformed host")
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = host[:i], host[i:]
	}
	if port != "" {
		n, err := strconv.ParseUint(port[1:], 10, 16)
		if err != nil {
			return "", p, false, errors.New("malformed port")
		}
		port = ":" + strconv.FormatUint(n, 10)
		if port[1:] == defaultPorts[scheme] {
			port = ""
		}
	}
	host, wild := strings.CutPrefix(host, "*.")
	host, err = canonicalHost(host)
	if err != nil {
		return "", p, false, err
	}
	if strings.Contains(host, "*") {
		return "", p, false, errors.New(`a wildcard is allowed only as the whole first label, as in https://*.example.com`)
	}
	if !wild {
		return scheme + "://" + host + port, p, false, nil
	}
	if strings.HasPrefix(host, "[") || endsInNumber(host) {
		return "", p, false, errors.New("a pattern needs a domain name, not an IP address")
	}
	if !strings.Contains(host, ".") {
		return "", p, false, errors.New("a pattern needs a domain of two labels or more (*.com would allow every .com site)")
	}
	if publicSuffix(host) {
		return "", p, false, errors.New(host + " is a public suffix: anyone can have a site under it, and the pattern would allow it; list the origins")
	}
	return "", pattern{prefix: scheme + "://", suffix: "." + host + port}, true, nil
}

// canonicalHost returns host as browsers serialize it (the WHATWG URL
// standard's host serializer): an IPv6 literal in brackets, in hex pieces
// with the first longest run of zeros compressed, an IPv4-mapped one
// included ([::ffff:7f00:1], never [::ffff:127.0.0.1]); a name in lower
// case. An IPv4 address must be given in dotted decimal: browsers also
// read hex, octal and shortened forms (0x7f.0.0.1, 0177.0.0.1, 127.1) as
// IPv4 and send them in dotted decimal, and such a form is refused, not
// converted. Non-ASCII names must be given in their xn-- form.
func canonicalHost(host string) (string, error) {
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.TrimSuffix(host[1:], "]"))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", errors.New("malformed IPv6 address")
		}
		if a.Is4In6() {
			// netip writes the last 32 bits dotted; browsers do not.
			b := a.As16()
			return "[::ffff:" + strconv.FormatUint(uint64(b[12])<<8|uint64(b[13]), 16) + ":" +
				strconv.FormatUint(uint64(b[14])<<8|uint64(b[15]), 16) + "]", nil
		}
		return "[" + a.String() + "]", nil
	}
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			return "", errors.New("a non-ASCII host name must be written in its xn-- (punycode) form, as browsers send it")
		}
	}
	lower := strings.ToLower(host)
	if endsInNumber(lower) {
		a, err := netip.ParseAddr(lower)
		if err != nil || !a.Is4() {
			return "", errors.New("malformed IPv4 address: browsers read a host that ends in a number as one, and send it in dotted decimal: write it so (as 127.0.0.1), without hex, octal or shortened forms")
		}
		return a.String(), nil
	}
	if strings.Contains(lower, "*") {
		return lower, nil // reported by the caller, with the rule for wildcards
	}
	if !validLabels(lower) {
		return "", errors.New("malformed host")
	}
	return lower, nil
}

// endsInNumber reports whether a browser reads the lower-case host as an
// IPv4 address, never as a name: when its last label (a trailing dot
// aside) is decimal digits, or "0x" and hex digits (the WHATWG URL
// standard's ends-in-a-number checker).
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		for i := 0; i < len(hex); i++ {
			if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if c := last[i]; c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validScheme reports whether s is an RFC 3986 scheme in lower case.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}
