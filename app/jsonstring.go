package app

import "github.com/funcify/funcify/internal/jsonstr"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendString[S string | []byte](dst []byte, s S) []byte { return jsonstr.Append(dst, s) }

// appendStringContent appends s escaped for use inside a JSON string.
func appendStringContent[S string | []byte](dst []byte, s S) []byte {
	return jsonstr.AppendContent(dst, s)
}

// appendLowerString appends the ASCII-lowercased s as a JSON string.
func appendLowerString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := len(dst)
	dst = appendStringContent(dst, s)
	for i := start; i < len(dst); i++ {
		if c := dst[i]; 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return append(dst, '"')
}
