package idempotency

import (
	"reflect"
	"strings"
	"testing"

	"github.com/funcify/funcify/store/memstore"
)

// TestCheckingCopiesGuard: checking copies every setting of a Guard, one
// by one; a field added to Guard must be copied there too.
func TestCheckingCopiesGuard(t *testing.T) {
	g, err := New(Config{Store: memstore.New(), Scope: "s", Wait: true, TTL: 7, MaxResultBytes: 9})
	if err != nil {
		t.Fatal(err)
	}
	c := g.checking()
	if c == g || !c.check {
		t.Fatalf("checking: got the same Guard or one that does not check")
	}
	if g.check {
		t.Errorf("checking changed the original Guard")
	}
	if c.checking() != c {
		t.Errorf("checking of a checking Guard: got a copy, want the Guard itself")
	}
	// The fields checking copies, by name, and those it must not.
	copied := "store scope ttl margin minLease maxLease wait check policy maxBytes storeMax log now waiting"
	state := "without"
	typ := reflect.TypeFor[Guard]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if !strings.Contains(" "+copied+" ", " "+name+" ") && name != state {
			t.Errorf("Guard.%s is not copied by checking", name)
		}
	}
	a, b := reflect.ValueOf(g).Elem(), reflect.ValueOf(c).Elem()
	for _, name := range strings.Fields(copied) {
		if name == "check" {
			continue
		}
		x, y := a.FieldByName(name), b.FieldByName(name)
		var same bool
		switch x.Kind() {
		case reflect.Func, reflect.Slice:
			same = x.Pointer() == y.Pointer() && (x.Kind() == reflect.Func || x.Len() == y.Len())
		default:
			same = x.Equal(y)
		}
		if !same {
			t.Errorf("checking: Guard.%s differs from the original's", name)
		}
	}
}

// FuzzParseKey: parseKey never panics; a key it accepts is 1 to MaxKeyBytes
// bytes of printable ASCII; a bare key is itself; and a key written as a
// Structured Field String parses back to itself.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `8e03978e`, `""`, `"a\"b\\c"`, `"abc`, `"a";p=1`, ` "a" `, `a,b`, `"é"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, msg := parseKey([]string{s})
		if (key == "") == (msg == "") {
			t.Fatalf("parseKey(%q) = %q, %q: want a key or a message", s, key, msg)
		}
		if msg != "" {
			return
		}
		if len(key) > MaxKeyBytes {
			t.Errorf("parseKey(%q): key of %d bytes", s, len(key))
		}
		for i := 0; i < len(key); i++ {
			if key[i] < 0x20 || key[i] >= 0x7f {
				t.Fatalf("parseKey(%q) = %q: not printable ASCII", s, key)
			}
		}
		v := strings.Trim(s, " \t")
		if v[0] != '"' && key != v {
			t.Errorf("parseKey(%q) = %q: want the bare key itself", s, key)
		}
		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key) + `"`
		if again, msg := parseKey([]string{quoted}); again != key {
			t.Errorf("parseKey(%q) = %q, %q; want %q", quoted, again, msg, key)
		}
	})
}
