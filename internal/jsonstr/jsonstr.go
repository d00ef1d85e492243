// Package jsonstr writes JSON strings into byte slices without allocating:
// the escaping that app's responder and the metrics package's EMF documents
// share. Control characters, '"' and '\\' are escaped; invalid UTF-8
// becomes U+FFFD, as encoding/json makes it; nothing else is escaped (no
// HTML escaping).
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// Append appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func Append[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	dst = AppendContent(dst, s)
	return append(dst, '"')
}

// AppendContent appends s escaped for use inside a JSON string, without
// the quotes.
func AppendContent[S string | []byte](dst []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}
