package idempotency_test

import (
	"strings"
	"testing"

	"github.com/funcify/funcify/idempotency"
	"github.com/funcify/funcify/internal/canonjson"
	"github.com/funcify/funcify/store/memstore"
)

func newGuard(t *testing.T, scope string) *idempotency.Guard {
	t.Helper()
	g, err := idempotency.New(idempotency.Config{Store: memstore.New(), Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustKeyFromJSON(t *testing.T, route, payload string, ptrs ...string) idempotency.Key {
	t.Helper()
	k, err := idempotency.KeyFromJSON(route, []byte(payload), ptrs...)
	if err != nil {
		t.Fatalf("KeyFromJSON(%s, %v): %v", payload, ptrs, err)
	}
	return k
}

func TestKeyFromJSONCanonical(t *testing.T) {
	const base = `{"order":{"id":"o-1","total":1250,"lines":[{"sku":"A","qty":1},{"sku":"B","qty":2}]},"at":"2026-11-25"}`
	same := []string{
		`{"at":"2026-11-25","order":{"lines":[{"qty":1,"sku":"A"},{"qty":2,"sku":"B"}],"total":1250,"id":"o-1"}}`,
		" {\n  \"order\" : { \"id\" : \"o-\\u0031\", \"total\" : 1.25e3,\n \"lines\" : [ {\"sku\":\"\\u0041\",\"qty\":1.0}, {\"sku\":\"B\",\"qty\":20E-1} ] },\n  \"at\" : \"2026-11-25\" }\n",
	}
	other := []string{
		`{"order":{"id":"o-1","total":1251,"lines":[{"sku":"A","qty":1},{"sku":"B","qty":2}]},"at":"2026-11-25"}`,
		`{"order":{"id":"o-1","total":1250,"lines":[{"sku":"B","qty":2},{"sku":"A","qty":1}]},"at":"2026-11-25"}`, // arrays keep order
		`{"order":{"id":"o-1","total":"1250","lines":[{"sku":"A","qty":1},{"sku":"B","qty":2}]},"at":"2026-11-25"}`,
	}
	for _, ptrs := range [][]string{nil, {"/order/id"}, {"/order/id", "/at"}} {
		k := mustKeyFromJSON(t, "r", base, ptrs...)
		for _, s := range same {
			if got := mustKeyFromJSON(t, "r", s, ptrs...); got != k {
				t.Errorf("pointers %q: %s gives another key than %s", ptrs, s, base)
			}
		}
		for _, s := range other {
			if got := mustKeyFromJSON(t, "r", s, ptrs...); got == k {
				t.Errorf("pointers %q: %s gives the key of %s", ptrs, s, base)
			}
		}
	}
	// The identity from pointers ignores the rest of the payload...
	a := mustKeyFromJSON(t, "r", `{"id":"o-1","n":1}`, "/id")
	b := mustKeyFromJSON(t, "r", `{"id":"o-1","n":2}`, "/id")
	g := newGuard(t, "s")
	if idempotency.StoreKey(g, a) != idempotency.StoreKey(g, b) {
		t.Error("same /id, other payload: another store key")
	}
	// ...but the payload's hash does not.
	if a == b {
		t.Error("other payloads: equal keys")
	}
}

func TestKeyFromJSONIsNewKey(t *testing.T) {
	payload := []byte(`{"b":[1,2.50],"a":{"id":"x"}}`)
	tests := []struct {
		ptrs []string
		id   string
	}{
		{nil, `{"a":{"id":"x"},"b":[1,2.5]}`},
		{[]string{"/a/id"}, `["x"]`},
		{[]string{"/b/1", "/a"}, `[2.5,{"id":"x"}]`},
		{[]string{""}, `[{"a":{"id":"x"},"b":[1,2.5]}]`},
	}
	for _, tt := range tests {
		got := mustKeyFromJSON(t, "route", string(payload), tt.ptrs...)
		if want := idempotency.NewKey("route", tt.id, payload); got != want {
			t.Errorf("KeyFromJSON with %q is not NewKey with id %s", tt.ptrs, tt.id)
		}
	}
}

func TestKeyFromJSONErrors(t *testing.T) {
	tests := []struct {
		payload string
		ptrs    []string
		msg     string
	}{
		{`{"id":1}`, []string{"/missing"}, "does not resolve"},
		{`{"id":1}`, []string{"/id", "/other"}, "does not resolve"},
		{`{"id":1}`, []string{"id"}, "does not start with /"},
		{`{"a":[1]}`, []string{"/a/1"}, "does not resolve"},
		{`not json`, nil, "invalid character"},
		{``, nil, "unexpected end"},
		{`{"id":1,"id":2}`, []string{"/id"}, "duplicate member name"},
	}
	for _, tt := range tests {
		_, err := idempotency.KeyFromJSON("r", []byte(tt.payload), tt.ptrs...)
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "idempotency: ") {
			t.Errorf("KeyFromJSON(%s, %q): got %v, want an error saying %q", tt.payload, tt.ptrs, err, tt.msg)
		}
	}
}

// TestStoreKeySeparation: scope, route and id are hashed unambiguously.
func TestStoreKeySeparation(t *testing.T) {
	g := newGuard(t, "s")
	keys := map[string]string{}
	add := func(name string, g *idempotency.Guard, k idempotency.Key) {
		t.Helper()
		sk := idempotency.StoreKey(g, k)
		if prev, ok := keys[sk]; ok {
			t.Errorf("%s and %s share the store key %s", name, prev, sk)
		}
		keys[sk] = name
		if !strings.HasPrefix(sk, "idempotency/") || len(sk) != len("idempotency/")+43 {
			t.Errorf("store key %q, want idempotency/ and 43 characters of base64", sk)
		}
	}
	add(`route "a" id "bc"`, g, idempotency.NewKey("a", "bc", nil))
	add(`route "ab" id "c"`, g, idempotency.NewKey("ab", "c", nil))
	add(`route "" id "abc"`, g, idempotency.NewKey("", "abc", nil))
	add(`route "abc" id ""`, g, idempotency.NewKey("abc", "", nil))
	add(`scope "s2"`, newGuard(t, "s2"), idempotency.NewKey("a", "bc", nil))
	add(`scope "sa", route "bc"`, newGuard(t, "sa"), idempotency.NewKey("bc", "", nil))
	// The payload is not part of the store key.
	if idempotency.StoreKey(g, idempotency.NewKey("a", "bc", []byte("x"))) != idempotency.StoreKey(g, idempotency.NewKey("a", "bc", nil)) {
		t.Error("the payload changes the store key")
	}
}

func TestScopeDefault(t *testing.T) {
	k := idempotency.NewKey("r", "id", nil)
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "orders-fn")
	if idempotency.StoreKey(newGuard(t, ""), k) != idempotency.StoreKey(newGuard(t, "orders-fn"), k) {
		t.Error("Scope \"\" is not the function's name")
	}
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "")
	if idempotency.StoreKey(newGuard(t, ""), k) != idempotency.StoreKey(newGuard(t, "local"), k) {
		t.Error("Scope \"\" outside Lambda is not \"local\"")
	}
}

func TestNewKeyPayload(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"a":1,"b":2}`, ` { "b" : 2.0 , "a" : 1 } `, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`a=1&b=2`, `a=1&b=2`, true}, // not JSON: by its bytes
		{`a=1&b=2`, `b=2&a=1`, false},
		{``, `null`, false},
		{`{"a":1,"a":1}`, `{"a":1}`, false}, // no canonical form: by its bytes
		{"[1]", "[1] ", true},
	}
	for _, tt := range tests {
		ka, kb := idempotency.NewKey("r", "id", []byte(tt.a)), idempotency.NewKey("r", "id", []byte(tt.b))
		if (ka == kb) != tt.same {
			t.Errorf("payloads %q and %q: equal keys %v, want %v", tt.a, tt.b, ka == kb, tt.same)
		}
	}
	if idempotency.NewKey("r", "id", nil) != idempotency.NewKey("r", "id", []byte{}) {
		t.Error("nil and empty payloads differ")
	}
}

// FuzzKeyFromJSON: a payload and its canonical form give one key, which
// NewKey gives from the canonical form as identity; a payload without a
// canonical form is refused.
func FuzzKeyFromJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.0,2]}`, `[]`, `"x"`, `{"a":1,"a":2}`, `1e999`, `{"id":"o-1","n":12345678901234567890}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		k, err := idempotency.KeyFromJSON("r", payload)
		c, cerr := canonjson.Append(nil, payload)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("KeyFromJSON: %v; canonical form: %v", err, cerr)
		}
		if err != nil {
			return
		}
		if k2, err := idempotency.KeyFromJSON("r", c); err != nil || k2 != k {
			t.Fatalf("the canonical form %q of %q gives another key (%v)", c, payload, err)
		}
		if idempotency.NewKey("r", string(c), payload) != k {
			t.Fatalf("NewKey with the canonical form %q as identity differs", c)
		}
	})
}
