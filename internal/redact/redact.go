// Package redact takes out of URLs the parts that may carry secrets, before
// the URLs are logged or returned in an error that may be logged: the user
// information ("user:password@"), the query ("?api_key=...") and the
// fragment. The scheme, host and path are kept, so a log line still says
// which endpoint failed.
//
// net/http names the URL, query and all, in every error of
// [http.Client.Do] (a [*url.Error]); [Error] rewrites such an error and
// [Text] cleans the text of any error chain that holds one.
package redact

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// invalid replaces a URL that does not parse: its parts cannot be told
// apart, so none of it is shown.
const invalid = "(invalid URL)"

// URL returns u as a string without its user information, query and
// fragment.
func URL(u *url.URL) string {
	r := *u
	r.User, r.RawQuery, r.ForceQuery, r.Fragment, r.RawFragment = nil, "", false, "", ""
	return r.String()
}

// String returns rawURL without its user information, query and fragment,
// or "(invalid URL)" if it does not parse.
func String(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return invalid
	}
	return URL(u)
}

// Error returns err with its URL redacted when err is a [*url.Error], as
// http.Client.Do returns: a new *url.Error with the same Op and Err, so
// that errors.Is and errors.As, and its Timeout method, see what they saw
// before. Any other error is returned as it is; to log an error that wraps
// a *url.Error deeper in its chain, use [Text].
func Error(err error) error {
	ue, ok := err.(*url.Error)
	if !ok {
		return err
	}
	return &url.Error{Op: ue.Op, URL: String(ue.URL), Err: ue.Err}
}

// Text returns err's text with the URL of every [*url.Error] in its chain
// redacted, for a log line. It returns "" for a nil err.
func Text(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	walk(err, func(ue *url.Error) {
		if ue.URL == "" {
			return
		}
		clean := String(ue.URL)
		s = strings.ReplaceAll(s, strconv.Quote(ue.URL), strconv.Quote(clean))
		s = strings.ReplaceAll(s, ue.URL, clean)
	})
	return s
}

// walk calls f for every *url.Error in err's chain, through both forms of
// Unwrap.
func walk(err error, f func(*url.Error)) {
	for depth := 0; err != nil && depth < 100; depth++ {
		if ue, ok := err.(*url.Error); ok {
			f(ue)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e, f)
			}
			return
		default:
			err = errors.Unwrap(err)
		}
	}
}
