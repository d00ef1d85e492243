package pdp_test

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/funcify/funcify/pdp"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name            string
		grant, required string
		want            bool
	}{
		{"exact", "orders:order:read", "orders:order:read", true},
		{"other action", "orders:order:read", "orders:order:write", false},
		{"case-sensitive", "Orders:order:read", "orders:order:read", false},
		{"case-sensitive required", "orders:order:read", "orders:Order:read", false},
		{"grant shorter", "orders:order", "orders:order:read", false},
		{"grant longer", "orders:order:read:all", "orders:order:read", false},
		{"one segment", "orders", "orders", true},
		{"star middle", "orders:*:read", "orders:order:read", true},
		{"star middle other action", "orders:*:read", "orders:order:write", false},
		{"star middle is one segment", "orders:*:read", "orders:a:b:read", false},
		{"star first", "*:order:read", "orders:order:read", true},
		{"star last of three", "orders:order:*", "orders:order:read", true},
		{"final star one more", "orders:*", "orders:order", true},
		{"final star rest", "orders:*", "orders:order:read", true},
		{"final star many", "orders:*", "orders:a:b:c:d:e", true},
		{"final star needs one segment", "orders:*", "orders", false},
		{"final star other service", "orders:*", "billing:order:read", false},
		{"star alone", "*", "orders:order:read", true},
		{"star alone one segment", "*", "orders", true},
		{"stars all", "*:*:*", "orders:order:read", true},
		{"stars all too few", "*:*:*", "orders:order", false},
		{"stars then final star", "*:*:*", "orders:order:read:x", true},
		{"star not a prefix glob", "ord*:order:read", "orders:order:read", false},
		{"star suffix in grant", "orders:order:re*", "orders:order:read", false},
		{"double star is literal", "orders:**", "orders:order:read", false},
		{"empty grant", "", "orders:order:read", false},
		{"grant leading colon", ":orders:order:read", "orders:order:read", false},
		{"grant trailing colon", "orders:order:read:", "orders:order:read", false},
		{"grant empty segment", "orders::read", "orders:order:read", false},
		{"grant star then trailing colon", "orders:*:", "orders:order:read", false},
		{"grant space", "orders:order:read ", "orders:order:read", false},
		{"required empty", "*", "", false},
		{"required leading colon", "*", ":orders", false},
		{"required trailing colon", "*", "orders:", false},
		{"required empty segment", "orders:*", "orders::read", false},
		{"required empty segment under final star", "*", "a::b", false},
		{"required star", "orders:*:read", "orders:*:read", false},
		{"required star under final star", "*", "orders:*", false},
		{"required star inside", "*", "orders:ord*", false},
		{"required space", "*", "orders:order read", false},
		{"required control", "*", "orders:order\x00", false},
		{"required colon only", "*", ":", false},
		{"unicode exact", "commandes:ordre:lire\u00e9", "commandes:ordre:lire\u00e9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pdp.Match(tt.grant, tt.required); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.grant, tt.required, got, tt.want)
			}
			if got := refMatch(tt.grant, tt.required); got != tt.want {
				t.Errorf("reference(%q, %q) = %v, want %v", tt.grant, tt.required, got, tt.want)
			}
		})
	}
}

func TestActivityMalformed(t *testing.T) {
	tests := []struct {
		name, required string
		opts           []pdp.Option
		want           string // a substring of the error
	}{
		{"empty", "", nil, `activity "": empty`},
		{"leading colon", ":order:read", nil, "segment 1: empty segment"},
		{"trailing colon", "orders:order:", nil, "segment 3: empty segment"},
		{"double colon", "orders::read", nil, "segment 2: empty segment"},
		{"colon only", ":", nil, "empty segment"},
		{"star segment", "orders:*:read", nil, "'*'"},
		{"final star", "orders:*", nil, "'*'"},
		{"star inside", "orders:ord*:read", nil, "'*'"},
		{"space", "orders:order: read", nil, "space"},
		{"tab", "orders:order:\tread", nil, "control"},
		{"newline", "orders:order:read\n", nil, "control"},
		{"delete", "orders:order:read\x7f", nil, "control"},
		{"empty namespace", "orders:order:read", []pdp.Option{pdp.Namespace("")}, `namespace "": empty`},
		{"namespace with colon", "orders:order:read", []pdp.Option{pdp.Namespace("orders:order")}, "':'"},
		{"namespace star", "orders:order:read", []pdp.Option{pdp.Namespace("*")}, "'*'"},
		{"namespace space", "orders:order:read", []pdp.Option{pdp.Namespace("or ders")}, "space"},
		{"outside namespace", "orders:order:read", []pdp.Option{pdp.Namespace("order")}, `not in namespace "order"`},
		{"outside namespace longer", "order:x:read", []pdp.Option{pdp.Namespace("orders")}, `not in namespace "orders"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := pdp.Activity(tt.required, tt.opts...)
			if err == nil {
				t.Fatalf("Activity(%q) = %v, want an error", tt.required, p)
			}
			if !errors.Is(err, pdp.ErrMalformed) {
				t.Errorf("got error %v, want it to match ErrMalformed", err)
			}
			if !strings.HasPrefix(err.Error(), "pdp: malformed ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to start with %q and contain %q", err, "pdp: malformed ", tt.want)
			}
			if p != nil {
				t.Errorf("got policy %v with the error, want nil", p)
			}
			defer func() {
				if v := recover(); v == nil {
					t.Errorf("MustActivity(%q) did not panic", tt.required)
				}
			}()
			pdp.MustActivity(tt.required, tt.opts...)
		})
	}
}

func TestActivityNamespace(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		required  string
		grant     string
		want      bool
	}{
		{"in namespace", "orders", "orders:order:read", "orders:order:read", true},
		{"wildcard in namespace", "orders", "orders:order:read", "orders:*", true},
		{"namespace alone", "orders", "orders", "orders", true},
		{"longer first segment", "order", "order:item:read", "orders:item:read", false},
		{"longer first segment wildcard", "order", "order:item:read", "orders:*", false},
		{"shorter first segment", "orders", "orders:order:read", "order:*", false},
		{"first segment contains namespace", "order", "order:item:read", "preorder:item:read", false},
		{"namespace later segment", "order", "order:item:read", "shop:order:*", false},
		{"wildcard service outside any namespace", "orders", "orders:order:read", "*:order:read", false},
		{"star grant outside any namespace", "orders", "orders:order:read", "*", false},
		{"case-sensitive namespace", "orders", "orders:order:read", "Orders:order:read", false},
		{"empty grant", "orders", "orders:order:read", "", false},
		{"grant is namespace plus colon", "orders", "orders:order:read", "orders:", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := pdp.Activity(tt.required, pdp.Namespace(tt.namespace))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Granted([]string{tt.grant}); got != tt.want {
				t.Errorf("Activity(%q, Namespace(%q)).Granted([%q]) = %v, want %v", tt.required, tt.namespace, tt.grant, got, tt.want)
			}
			// Without the namespace, only the matcher decides.
			noNS := pdp.MustActivity(tt.required)
			if got, want := noNS.Granted([]string{tt.grant}), pdp.Match(tt.grant, tt.required); got != want {
				t.Errorf("without namespace: got %v, want %v", got, want)
			}
		})
	}
	// The namespace filters grants; it does not stop another grant from matching.
	p := pdp.MustActivity("orders:order:read", pdp.Namespace("orders"))
	if !p.Granted([]string{"*", "orderss:*", "orders:order:read"}) {
		t.Error("a matching grant after grants outside the namespace was not counted")
	}
}

// refMatch is a plain reference for Match: split both into segments, check
// the required activity, then compare recursively.
func refMatch(grant, required string) bool {
	rs := strings.Split(required, ":")
	for _, r := range rs {
		if r == "" || strings.ContainsFunc(r, func(c rune) bool { return c == '*' || c <= ' ' || c == 0x7f }) {
			return false
		}
	}
	return refSegments(strings.Split(grant, ":"), rs)
}

func refSegments(gs, rs []string) bool {
	switch {
	case len(gs) == 0:
		return len(rs) == 0
	case len(rs) == 0:
		return false
	case len(gs) == 1 && gs[0] == "*":
		return true // a final '*' takes the rest: here, at least rs[0]
	case gs[0] == "*" || gs[0] == rs[0]:
		return refSegments(gs[1:], rs[1:])
	}
	return false
}

// randomActivity builds an activity of 0 to 6 segments from a small
// alphabet that includes wildcards, empty and odd segments, so that matches,
// near misses and malformed strings are all common.
func randomActivity(rng *rand.Rand, segs []string) string {
	n := rng.IntN(7)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = segs[rng.IntN(len(segs))]
	}
	return strings.Join(parts, ":")
}

func TestMatchDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 2026))
	// The first eight grant segments and the first five required segments
	// are well formed.
	grantSegs := []string{"a", "b", "ab", "A", "é", "*", "*", "*", "", "a*", "**", " ", "\x00"}
	reqSegs := []string{"a", "b", "ab", "A", "é", "a", "b", "", "*", " "}
	const n = 100_000
	var matched, malformed int
	for i := range n {
		var grant, required string
		switch i % 3 {
		case 0: // independent
			grant, required = randomActivity(rng, grantSegs), randomActivity(rng, reqSegs)
		case 1: // required derived from the grant: mostly well formed, often admitted
			if rng.IntN(4) > 0 {
				grant = randomActivity(rng, grantSegs[:8])
			} else {
				grant = randomActivity(rng, grantSegs)
			}
			parts := strings.Split(grant, ":")
			for j, p := range parts {
				if p == "*" || (rng.IntN(4) > 0 && !refMatch("*", p)) {
					parts[j] = reqSegs[rng.IntN(5)]
				}
			}
			for range rng.IntN(3) {
				parts = append(parts, reqSegs[rng.IntN(5)])
			}
			required = strings.Join(parts, ":")
		case 2: // raw bytes, with colons and stars likely
			grant, required = randomBytes(rng), randomBytes(rng)
		}
		got, want := pdp.Match(grant, required), refMatch(grant, required)
		if got != want {
			t.Fatalf("case %d: Match(%q, %q) = %v, reference %v", i, grant, required, got, want)
		}
		if got {
			matched++
		}
		if _, err := pdp.Activity(required); err != nil {
			malformed++
		} else if pdp.MustActivity(required).Granted([]string{grant}) != got {
			t.Fatalf("case %d: Activity(%q).Granted([%q]) disagrees with Match", i, required, grant)
		}
	}
	t.Logf("%d cases: %d matched, %d with a malformed required activity", n, matched, malformed)
	if matched < n/20 || matched > n-n/20 || malformed < n/20 || malformed > n-n/20 {
		t.Errorf("matched %d, malformed %d of %d: the cases do not exercise both outcomes", matched, malformed, n)
	}
}

func randomBytes(rng *rand.Rand) string {
	const alphabet = "ab::**A \x00"
	b := make([]byte, rng.IntN(12))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][3]string{
		{"orders:*", "orders:order:read", "orders"},
		{"*:*:read", "orders:order:read", ""},
		{"*", "a", "a"},
		{"orders:*", "orders", "orders"},
		{"orders::read", "orders::read", "order"},
		{"ord*:x", "ord*:x", "ord*"},
		{"", "", ""},
		{":", ":", ":"},
		{strings.Repeat("*:", 50) + "*", strings.Repeat("a:", 60) + "a", "a"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, grant, required, namespace string) {
		got := pdp.Match(grant, required)
		if want := refMatch(grant, required); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference %v", grant, required, got, want)
		}
		p, err := pdp.Activity(required)
		if (err == nil) != refMatch("*", required) {
			t.Fatalf("Activity(%q) error %v, but the reference says well-formed is %v", required, err, refMatch("*", required))
		}
		if err == nil && p.Granted([]string{grant}) != got {
			t.Fatalf("Activity(%q).Granted([%q]) = %v, Match %v", required, grant, !got, got)
		}
		p, err = pdp.Activity(required, pdp.Namespace(namespace))
		if err != nil {
			return
		}
		first, _, _ := strings.Cut(grant, ":")
		want := first == namespace && got
		if g := p.Granted([]string{grant}); g != want {
			t.Fatalf("Activity(%q, Namespace(%q)).Granted([%q]) = %v, want %v", required, namespace, grant, g, want)
		}
	})
}

// TestMatchLinear matches grants of 10,000 '*' segments, which would take
// exponential time in a backtracking matcher, and checks that matching
// allocates nothing. BenchmarkMatchStars shows the time grows linearly.
func TestMatchLinear(t *testing.T) {
	stars := strings.Repeat("*:", 9_999) + "*"
	long := strings.Repeat("seg:", 19_999) + "seg"
	notFinal := strings.Repeat("*:", 10_000) + "x"
	tests := []struct {
		grant, required string
		want            bool
	}{
		{stars, long, true},
		{stars, long[:len(long)/4], false}, // too few segments
		{notFinal, long, false},            // fails only at the end
		{"*:" + stars, strings.Repeat("a:", 10_001), false},
	}
	p := pdp.MustActivity(long)
	for i, tt := range tests {
		if got := pdp.Match(tt.grant, tt.required); got != tt.want {
			t.Errorf("case %d: got %v, want %v", i, got, tt.want)
		}
		allocs := testing.AllocsPerRun(20, func() { pdp.Match(tt.grant, tt.required) })
		if allocs != 0 {
			t.Errorf("case %d: got %v allocations per match, want 0", i, allocs)
		}
	}
	allocs := testing.AllocsPerRun(20, func() { p.Granted([]string{notFinal, stars}) })
	if allocs != 0 {
		t.Errorf("Granted: got %v allocations, want 0", allocs)
	}
}

func BenchmarkMatchStars(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		grant := strings.Repeat("*:", n) + "x"
		required := strings.Repeat("seg:", n) + "y"
		b.Run("segments="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(grant) + len(required)))
			for b.Loop() {
				pdp.Match(grant, required)
			}
		})
	}
}
