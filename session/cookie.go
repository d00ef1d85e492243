package session

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxCookieBytes is the largest Set-Cookie value [Session.Set] and
// [Session.SetSealed] emit: name, value and attributes as serialized. It is
// the least a user agent must store per cookie (RFC 6265 section 6.1);
// browsers drop larger cookies without a word.
const MaxCookieBytes = 4096

// Errors returned by [Session.Set], [Session.SetSealed] and [Session.Delete].
// Each is wrapped with details; test for them with errors.Is.
var (
	// ErrInvalidName: the cookie name is not an RFC 6265 token.
	ErrInvalidName = errors.New("session: invalid cookie name")
	// ErrInvalidValue: the value is not a string of RFC 6265 cookie-octets.
	ErrInvalidValue = errors.New("session: invalid cookie value")
	// ErrInvalidAttr: an attribute is malformed, or attributes conflict
	// (SameSite=None or Partitioned without Secure, a __Host- cookie with a
	// Domain).
	ErrInvalidAttr = errors.New("session: invalid cookie attribute")
	// ErrTooLarge: the serialized cookie is over [MaxCookieBytes].
	ErrTooLarge = errors.New("session: cookie too large")
)

// Attr sets an attribute of a cookie for one call of [Session.Set],
// [Session.SetSealed] or [Session.Delete]. Without any, a cookie has
// Path=/, Secure, HttpOnly and SameSite=Lax, and no Domain, Max-Age or
// Expires (a cookie that lasts as long as the browser session; SetSealed
// adds Max-Age).
type Attr func(*attrs)

type attrs struct {
	path        string
	domain      string
	maxAge      time.Duration // 0: none
	expires     time.Time     // zero: none
	secure      bool
	httpOnly    bool
	sameSite    http.SameSite
	partitioned bool
}

func newAttrs(opts []Attr) attrs {
	a := attrs{path: "/", secure: true, httpOnly: true, sameSite: http.SameSiteLaxMode}
	for _, o := range opts {
		o(&a)
	}
	return a
}

// Path sets the Path attribute, which must start with '/' (default "/").
func Path(p string) Attr { return func(a *attrs) { a.path = p } }

// Domain sets the Domain attribute: the cookie then also goes to the
// domain's subdomains. The default is none: the cookie goes to the host
// that set it only.
func Domain(d string) Attr { return func(a *attrs) { a.domain = d } }

// MaxAge sets the Max-Age attribute, in whole seconds; d must be at least a
// second. Use [Session.Delete] to remove a cookie.
func MaxAge(d time.Duration) Attr { return func(a *attrs) { a.maxAge = d } }

// Expires sets the Expires attribute. A user agent that knows Max-Age
// prefers it.
func Expires(t time.Time) Attr { return func(a *attrs) { a.expires = t } }

// Secure sets whether the cookie carries the Secure attribute (default on):
// the browser then sends it over HTTPS only (and to localhost).
func Secure(on bool) Attr { return func(a *attrs) { a.secure = on } }

// HTTPOnly sets whether the cookie carries the HttpOnly attribute (default
// on): scripts in the page cannot read it.
func HTTPOnly(on bool) Attr { return func(a *attrs) { a.httpOnly = on } }

// SameSite sets the SameSite attribute (default http.SameSiteLaxMode).
// http.SameSiteDefaultMode leaves the attribute out; http.SameSiteNoneMode
// needs Secure.
func SameSite(m http.SameSite) Attr { return func(a *attrs) { a.sameSite = m } }

// Partitioned adds the Partitioned attribute (CHIPS: a third-party cookie
// kept apart per top-level site); it needs Secure.
func Partitioned() Attr { return func(a *attrs) { a.partitioned = true } }

// deleted is what Expires says on a cookie being removed.
const deleted = "Thu, 01 Jan 1970 00:00:00 GMT"

// setCookie returns the Set-Cookie value for name=value with a. remove
// makes it a deletion: an empty value, Expires in the past and Max-Age=0,
// whatever a says about expiry.
func setCookie(name, value string, a attrs, remove bool) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("%w %q: not an RFC 6265 token", ErrInvalidName, name)
	}
	if i := invalidValueAt(value); i >= 0 {
		// The value may be secret: say where, not what.
		return "", fmt.Errorf("%w for cookie %q: byte %d is not a cookie-octet", ErrInvalidValue, name, i)
	}
	if err := a.check(name, remove); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(name) + len(value) + 96)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteString("; Path=")
	b.WriteString(a.path)
	if a.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(strings.TrimPrefix(a.domain, "."))
	}
	switch {
	case remove:
		b.WriteString("; Expires=" + deleted + "; Max-Age=0")
	default:
		if !a.expires.IsZero() {
			b.WriteString("; Expires=")
			b.WriteString(a.expires.UTC().Format(http.TimeFormat))
		}
		if a.maxAge != 0 {
			b.WriteString("; Max-Age=")
			b.WriteString(strconv.FormatInt(int64(a.maxAge/time.Second), 10))
		}
	}
	if a.secure {
		b.WriteString("; Secure")
	}
	if a.httpOnly {
		b.WriteString("; HttpOnly")
	}
	switch a.sameSite {
	case http.SameSiteLaxMode:
		b.WriteString("; SameSite=Lax")
	case http.SameSiteStrictMode:
		b.WriteString("; SameSite=Strict")
	case http.SameSiteNoneMode:
		b.WriteString("; SameSite=None")
	}
	if a.partitioned {
		b.WriteString("; Partitioned")
	}
	if b.Len() > MaxCookieBytes {
		return "", fmt.Errorf("%w: cookie %q is %d bytes serialized, over %d", ErrTooLarge, name, b.Len(), MaxCookieBytes)
	}
	return b.String(), nil
}

// check validates the attributes, and the cookie name prefixes that
// browsers enforce (RFC 6265bis section 4.1.3).
func (a attrs) check(name string, remove bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: cookie %q: %s", ErrInvalidAttr, name, fmt.Sprintf(format, args...))
	}
	if a.path == "" || a.path[0] != '/' || !validAttrValue(a.path) {
		return bad("Path %q must start with '/' and hold no control characters, ';' or non-ASCII", a.path)
	}
	if a.domain != "" && !validDomain(strings.TrimPrefix(a.domain, ".")) {
		return bad("Domain %q is not a host name", a.domain)
	}
	if !remove {
		if a.maxAge != 0 && a.maxAge < time.Second {
			return bad("Max-Age %v is under a second (use Delete to remove a cookie)", a.maxAge)
		}
		if !a.expires.IsZero() {
			if y := a.expires.UTC().Year(); y < 1601 || y > 9999 {
				return bad("Expires year %d is out of range", y)
			}
		}
	}
	switch a.sameSite {
	case http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if !a.secure {
			return bad("SameSite=None needs Secure")
		}
	default:
		return bad("unknown SameSite mode %d", a.sameSite)
	}
	if a.partitioned && !a.secure {
		return bad("Partitioned needs Secure")
	}
	switch {
	case hasPrefixFold(name, "__Host-"):
		if !a.secure || a.path != "/" || a.domain != "" {
			return bad("a __Host- cookie needs Secure, Path=/ and no Domain")
		}
	case hasPrefixFold(name, "__Secure-"):
		if !a.secure {
			return bad("a __Secure- cookie needs Secure")
		}
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// validName reports whether name is an RFC 6265 cookie-name: an RFC 2616
// token, one or more CHARs that are neither CTLs nor separators.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isToken(name[i]) {
			return false
		}
	}
	return true
}

func isToken(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(c))
}

// invalidValueAt returns the index of the first byte of value that is not
// an RFC 6265 cookie-octet, or -1.
func invalidValueAt(value string) int {
	for i := 0; i < len(value); i++ {
		if !isCookieOctet(value[i]) {
			return i
		}
	}
	return -1
}

// isCookieOctet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E, that is
// visible US-ASCII except DQUOTE, comma, semicolon and backslash.
func isCookieOctet(c byte) bool {
	return 0x21 <= c && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\'
}

// validAttrValue: any CHAR except CTLs or ';' (RFC 6265 path-value).
func validAttrValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// validDomain reports whether d is a host name: dot-separated labels of
// letters, digits and hyphens, none empty, over 63 bytes, or starting or
// ending with a hyphen (RFC 1034 section 3.5, as RFC 1123 relaxes it).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// parseCookies reads the pairs of Cookie headers (RFC 6265 section 4.2:
// cookie-pair *( ";" SP cookie-pair )), tolerating missing or extra
// whitespace around pairs and a value in double quotes, whose quotes it
// removes. A pair whose name is not a token or whose value is not
// cookie-octets is skipped; the rest of the header is still read. When a
// name repeats, the first pair wins: browsers send the cookie with the
// longest Path first.
func parseCookies(headers []string, yield func(name, value string)) {
	for _, h := range headers {
		for len(h) > 0 {
			var pair string
			pair, h, _ = strings.Cut(h, ";")
			pair = strings.Trim(pair, " \t")
			name, value, ok := strings.Cut(pair, "=")
			if !ok {
				continue
			}
			name = strings.TrimRight(name, " \t")
			value = strings.TrimLeft(value, " \t")
			if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			if !validName(name) || invalidValueAt(value) >= 0 {
				continue
			}
			yield(name, value)
		}
	}
}
