package pdp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/funcify/funcify/pdp"
	"github.com/funcify/funcify/pip"
)

var errStore = errors.New("store down")

// fixed is a policy that always answers err and counts its calls.
type fixed struct {
	err   error
	calls *int
}

func (f fixed) Decide(context.Context, *pip.Subject) error {
	if f.calls != nil {
		*f.calls++
	}
	return f.err
}

func TestPolicies(t *testing.T) {
	reader := &pip.Subject{ID: "u1", Activities: []string{"orders:order:read", "billing:*"}}
	nobody := &pip.Subject{ID: "u2"}
	read := pdp.MustActivity("orders:order:read")
	write := pdp.MustActivity("orders:order:write")
	allow := fixed{}
	forbid := fixed{err: fmt.Errorf("ip: %w", pdp.ErrForbidden)}
	broken := fixed{err: errStore}
	tests := []struct {
		name    string
		policy  pdp.Policy
		subject *pip.Subject
		want    error // nil, ErrUnauthenticated, ErrForbidden or errStore
	}{
		{"valid token with subject", pdp.ValidToken(), reader, nil},
		{"valid token with subject without grants", pdp.ValidToken(), nobody, nil},
		{"valid token without subject", pdp.ValidToken(), nil, pdp.ErrUnauthenticated},
		{"activity granted", read, reader, nil},
		{"activity granted by wildcard", pdp.MustActivity("billing:invoice:pay"), reader, nil},
		{"activity not granted", write, reader, pdp.ErrForbidden},
		{"activity with no grants", read, nobody, pdp.ErrForbidden},
		{"activity without subject", read, nil, pdp.ErrUnauthenticated},
		{"activity in namespace", pdp.MustActivity("billing:invoice:pay", pdp.Namespace("billing")), reader, nil},
		{"activity with wildcard service outside namespace", pdp.MustActivity("orders:order:read", pdp.Namespace("orders")),
			&pip.Subject{Activities: []string{"*:order:read", "order:order:read"}}, pdp.ErrForbidden},
		{"func", pdp.PolicyFunc(func(_ context.Context, s *pip.Subject) error {
			if s.ID != "u1" {
				return pdp.ErrForbidden
			}
			return nil
		}), reader, nil},

		{"all allow", pdp.All(pdp.ValidToken(), read), reader, nil},
		{"all one denies", pdp.All(read, write), reader, pdp.ErrForbidden},
		{"all without subject", pdp.All(pdp.ValidToken(), read), nil, pdp.ErrUnauthenticated},
		{"all first denial wins", pdp.All(forbid, pdp.ValidToken()), nil, pdp.ErrForbidden},
		{"all failure", pdp.All(read, broken), reader, errStore},
		{"all of one", pdp.All(write), reader, pdp.ErrForbidden},

		{"any one allows", pdp.Any(write, read), reader, nil},
		{"any none allows", pdp.Any(write, pdp.MustActivity("orders:order:delete")), reader, pdp.ErrForbidden},
		{"any without subject", pdp.Any(write, read), nil, pdp.ErrUnauthenticated},
		{"any unauthenticated before forbidden", pdp.Any(forbid, read), nil, pdp.ErrUnauthenticated},
		{"any unauthenticated before failure", pdp.Any(broken, read), nil, pdp.ErrUnauthenticated},
		{"any failure before forbidden", pdp.Any(forbid, broken, write), reader, errStore},
		{"any allow despite failure", pdp.Any(broken, read), reader, nil},
		{"any of one", pdp.Any(allow), nil, nil},

		{"nested", pdp.All(pdp.ValidToken(), pdp.Any(write, pdp.All(read, pdp.MustActivity("billing:x")))), reader, nil},
		{"nested denies", pdp.All(pdp.ValidToken(), pdp.Any(write, pdp.All(read, pdp.MustActivity("shipping:x")))), reader, pdp.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Decide(context.Background(), tt.subject)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want an error matching %v", err, tt.want)
			}
			for _, other := range []error{pdp.ErrUnauthenticated, pdp.ErrForbidden, errStore} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("got %v, which also matches %v", err, other)
				}
			}
		})
	}
}

func TestCombinatorsShortCircuit(t *testing.T) {
	var first, second int
	pdp.All(fixed{err: pdp.ErrForbidden, calls: &first}, fixed{calls: &second}).Decide(context.Background(), nil)
	if first != 1 || second != 0 {
		t.Errorf("All: got calls %d, %d, want 1, 0", first, second)
	}
	first, second = 0, 0
	pdp.Any(fixed{calls: &first}, fixed{calls: &second}).Decide(context.Background(), nil)
	if first != 1 || second != 0 {
		t.Errorf("Any: got calls %d, %d, want 1, 0", first, second)
	}
}

func TestCombinatorsCopyTheirArguments(t *testing.T) {
	ps := []pdp.Policy{pdp.ValidToken()}
	all := pdp.All(ps...)
	ps[0] = fixed{err: pdp.ErrForbidden}
	if err := all.Decide(context.Background(), &pip.Subject{}); err != nil {
		t.Errorf("got %v after changing the caller's slice, want nil", err)
	}
}

func TestSetupPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"empty All", func() { pdp.All() }, "All needs at least one policy"},
		{"empty Any", func() { pdp.Any() }, "Any needs at least one policy"},
		{"nil in All", func() { pdp.All(pdp.ValidToken(), nil) }, "policy 1 is nil"},
		{"nil in Any", func() { pdp.Any(nil) }, "policy 0 is nil"},
		{"nil Require", func() { pdp.Require(nil) }, "Require needs a policy"},
		{"malformed MustActivity", func() { pdp.MustActivity("a::b") }, "malformed activity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				v := recover()
				if v == nil {
					t.Fatal("did not panic")
				}
				if got := fmt.Sprint(v); !strings.HasPrefix(got, "pdp: ") || !strings.Contains(got, tt.want) {
					t.Errorf("got panic %q, want it to start with %q and contain %q", got, "pdp: ", tt.want)
				}
			}()
			tt.f()
		})
	}
}

func TestDenialDoesNotAllocate(t *testing.T) {
	p := pdp.MustActivity("orders:order:write")
	s := &pip.Subject{Activities: []string{"orders:order:read"}}
	ctx := context.Background()
	for name, s := range map[string]*pip.Subject{"forbidden": s, "unauthenticated": nil} {
		if allocs := testing.AllocsPerRun(100, func() { p.Decide(ctx, s) }); allocs != 0 {
			t.Errorf("%s: got %v allocations per decision, want 0", name, allocs)
		}
	}
}

func TestActivityPolicyString(t *testing.T) {
	for _, tt := range []struct {
		p    *pdp.ActivityPolicy
		want string
	}{
		{pdp.MustActivity("orders:order:read"), "orders:order:read"},
		{pdp.MustActivity("orders:order:read", pdp.Namespace("orders")), "orders:order:read (namespace orders)"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// BenchmarkMatch decides for a subject with 20 grants, the usual size of a
// token's activities, the granted one last or missing.
func BenchmarkMatch(b *testing.B) {
	grants := make([]string, 0, 20)
	for _, svc := range []string{"billing", "shipping", "catalog", "users"} {
		for _, act := range []string{"read", "write", "delete", "list"} {
			grants = append(grants, svc+":item:"+act)
		}
	}
	grants = append(grants, "reports:*", "*:audit:read", "orders:*:list", "orders:order:read")
	s := &pip.Subject{ID: "u1", Activities: grants}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		p    pdp.Policy
		want error
	}{
		{"granted-last", pdp.MustActivity("orders:order:read"), nil},
		{"granted-by-wildcard", pdp.MustActivity("orders:line:list"), nil},
		{"denied", pdp.MustActivity("orders:order:write"), pdp.ErrForbidden},
		{"namespace/granted-last", pdp.MustActivity("orders:order:read", pdp.Namespace("orders")), nil},
		{"namespace/denied", pdp.MustActivity("orders:order:write", pdp.Namespace("orders")), pdp.ErrForbidden},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if err := bc.p.Decide(ctx, s); !errors.Is(err, bc.want) {
				b.Fatalf("got %v, want %v", err, bc.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				bc.p.Decide(ctx, s)
			}
		})
	}
}
