package session

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseCookies checks that the Cookie header parser never panics, keeps
// only pairs that obey RFC 6265, and reads its own output back unchanged.
func FuzzParseCookies(f *testing.F) {
	for _, s := range []string{
		"a=1", "a=1; b=2", `a="q"; b=`, "a=1;b=2", " a = 1 ;\tb=2 ", "=1", "a", ";;;", `a="`, `a=""`,
		"a=1; a=2", "bad name=1; c=3", "a=x y", "__Host-id=abc", "a=\x00", "a=é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		var names, values []string
		parseCookies([]string{header}, func(name, value string) {
			if !validName(name) || invalidValueAt(value) >= 0 {
				t.Fatalf("%q: kept invalid pair %q=%q", header, name, value)
			}
			names, values = append(names, name), append(values, value)
		})
		var b strings.Builder
		for i := range names {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(names[i] + "=" + values[i])
		}
		i := 0
		parseCookies([]string{b.String()}, func(name, value string) {
			if i >= len(names) || name != names[i] || value != values[i] {
				t.Fatalf("%q: reparsing %q: got %q=%q at %d", header, b.String(), name, value, i)
			}
			i++
		})
		if i != len(names) {
			t.Fatalf("%q: reparsing %q: got %d pairs, want %d", header, b.String(), i, len(names))
		}
	})
}

// FuzzOpen checks that the unsealer never panics on any input and never
// opens anything but what the key sealed for the name, and that sealing then
// opening gives any value back.
func FuzzOpen(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s, err := NewSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	good := s.Seal("sid", "value", now.Add(time.Hour))
	f.Add("sid", good, "value")
	f.Add("sid", good[:len(good)-1], "")
	f.Add("other", good, "x")
	f.Add("sid", "", "")
	f.Add("sid", "AQ", "")
	f.Add("sid", strings.Repeat("A", 60), "")
	f.Add("\xee\xee", "", "0000000"+strings.Repeat("x", 3630)+"00") // sealed, over what a cookie carries
	f.Fuzz(func(t *testing.T, name, sealed, value string) {
		// Only seals of "value" for "sid" (the seeds) can open: fuzzing
		// workers each seal their own, with other nonces.
		if v, err := s.Open(name, sealed, now); err == nil && (name != "sid" || v != "value") {
			t.Fatalf("Open(%q, %q) opened to %q", name, sealed, v)
		}
		// A seal opens to its value, as long as it fits in a cookie: Open
		// refuses anything longer than a cookie can carry.
		seal := s.Seal(name, value, now.Add(time.Second))
		v, err := s.Open(name, seal, now)
		switch {
		case len(seal) <= maxSealed && (err != nil || v != value):
			t.Fatalf("round trip of %q for %q: got %q, %v", value, name, v, err)
		case len(seal) > maxSealed && err == nil:
			t.Fatalf("opened a %d-byte seal, over the %d a cookie carries", len(seal), maxSealed)
		}
	})
}
