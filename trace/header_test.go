package trace_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/funcify/funcify/trace"
)

const (
	root   = "1-5759e988-bd862e3fe1be46a994272793"
	parent = "53995c3f42cd8ad8"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want trace.Header
	}{
		{"full", "Root=" + root + ";Parent=" + parent + ";Sampled=1",
			trace.Header{Root: root, Parent: parent, Sampled: trace.SampledYes}},
		{"root only", "Root=" + root, trace.Header{Root: root}},
		{"not sampled", "Root=" + root + ";Sampled=0", trace.Header{Root: root, Sampled: trace.SampledNo}},
		{"sampling requested", "Root=" + root + ";Sampled=?", trace.Header{Root: root, Sampled: trace.SampledRequested}},
		{"spaces after semicolons", "Root=" + root + "; Parent=" + parent + ";  Sampled=1",
			trace.Header{Root: root, Parent: parent, Sampled: trace.SampledYes}},
		{"surrounding spaces and empty fields", "  Root=" + root + " ;;Sampled=1; ",
			trace.Header{Root: root, Sampled: trace.SampledYes}},
		{"any order", "Sampled=1;Parent=" + parent + ";Root=" + root,
			trace.Header{Root: root, Parent: parent, Sampled: trace.SampledYes}},
		{"upper case hex", "Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995C3F42CD8AD8",
			trace.Header{Root: "1-5759E988-BD862E3FE1BE46A994272793", Parent: "53995C3F42CD8AD8"}},
		{"lineage kept", "Root=" + root + ";Parent=" + parent + ";Sampled=0;Lineage=a87bd80c:1|68fd508a:5",
			trace.Header{Root: root, Parent: parent, Sampled: trace.SampledNo,
				Extra: []trace.Field{{Key: "Lineage", Value: "a87bd80c:1|68fd508a:5"}}}},
		{"extra fields in order", "Self=1-67891234-12456789abcdef012345678;Root=" + root + ";Lineage=x;Foo=a=b;Empty=",
			trace.Header{Root: root, Extra: []trace.Field{
				{Key: "Self", Value: "1-67891234-12456789abcdef012345678"},
				{Key: "Lineage", Value: "x"},
				{Key: "Foo", Value: "a=b"},
				{Key: "Empty", Value: ""},
			}}},
		{"keys are case-sensitive", "Root=" + root + ";parent=xyz;sampled=1",
			trace.Header{Root: root, Extra: []trace.Field{{Key: "parent", Value: "xyz"}, {Key: "sampled", Value: "1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trace.ParseHeader(tt.in)
			if err != nil {
				t.Fatalf("ParseHeader(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseHeader(%q)\ngot  %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"empty", "", "trace: malformed header: no Root"},
		{"only spaces", " ; ", "trace: malformed header: no Root"},
		{"no root", "Parent=" + parent + ";Sampled=1", "trace: malformed header: no Root"},
		{"lower case root key", "root=" + root, "trace: malformed header: no Root"},
		{"root wrong version", "Root=2-5759e988-bd862e3fe1be46a994272793",
			`trace: malformed header: Root "2-5759e988-bd862e3fe1be46a994272793" is not 1-<8 hex digits>-<24 hex digits>`},
		{"root short time", "Root=1-5759e98-bd862e3fe1be46a994272793",
			`trace: malformed header: Root "1-5759e98-bd862e3fe1be46a994272793" is not 1-<8 hex digits>-<24 hex digits>`},
		{"root short id", "Root=1-5759e988-bd862e3fe1be46a99427279",
			`trace: malformed header: Root "1-5759e988-bd862e3fe1be46a99427279" is not 1-<8 hex digits>-<24 hex digits>`},
		{"root not hex", "Root=1-5759e988-bd862e3fe1be46a99427279z",
			`trace: malformed header: Root "1-5759e988-bd862e3fe1be46a99427279z" is not 1-<8 hex digits>-<24 hex digits>`},
		{"root wrong separator", "Root=1-5759e988_bd862e3fe1be46a994272793",
			`trace: malformed header: Root "1-5759e988_bd862e3fe1be46a994272793" is not 1-<8 hex digits>-<24 hex digits>`},
		{"root empty", "Root=", `trace: malformed header: Root "" is not 1-<8 hex digits>-<24 hex digits>`},
		{"two roots", "Root=" + root + ";Root=" + root, "trace: malformed header: more than one Root"},
		{"parent short", "Root=" + root + ";Parent=53995c3f42cd8ad",
			`trace: malformed header: Parent "53995c3f42cd8ad" is not 16 hex digits`},
		{"parent not hex", "Root=" + root + ";Parent=53995c3f42cd8adg",
			`trace: malformed header: Parent "53995c3f42cd8adg" is not 16 hex digits`},
		{"parent empty", "Root=" + root + ";Parent=", `trace: malformed header: Parent "" is not 16 hex digits`},
		{"two parents", "Root=" + root + ";Parent=" + parent + ";Parent=" + parent,
			"trace: malformed header: more than one Parent"},
		{"sampled bad", "Root=" + root + ";Sampled=yes", `trace: malformed header: Sampled "yes" is not 0, 1 or ?`},
		{"two sampled", "Root=" + root + ";Sampled=1;Sampled=0", "trace: malformed header: more than one Sampled"},
		{"no equals", "Root=" + root + ";Lineage", `trace: malformed header: field "Lineage" has no '='`},
		{"empty key", "Root=" + root + ";=x", `trace: malformed header: field "=x" has an empty key`},
		{"long value shortened", "Root=" + strings.Repeat("a", 100),
			`trace: malformed header: Root "` + strings.Repeat("a", 64) + `"... is not 1-<8 hex digits>-<24 hex digits>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trace.ParseHeader(tt.in)
			if err == nil {
				t.Fatalf("ParseHeader(%q) = %#v, want error", tt.in, got)
			}
			if !errors.Is(err, trace.ErrMalformed) {
				t.Errorf("errors.Is(%v, ErrMalformed) = false, want true", err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error = %q, want %q", err, tt.wantMsg)
			}
			if !reflect.DeepEqual(got, trace.Header{}) {
				t.Errorf("Header = %#v, want zero on error", got)
			}
		})
	}
}

func TestHeaderString(t *testing.T) {
	tests := []struct {
		name string
		h    trace.Header
		want string
	}{
		{"zero", trace.Header{}, ""},
		{"root", trace.Header{Root: root}, "Root=" + root},
		{"full", trace.Header{Root: root, Parent: parent, Sampled: trace.SampledYes},
			"Root=" + root + ";Parent=" + parent + ";Sampled=1"},
		{"no", trace.Header{Root: root, Sampled: trace.SampledNo}, "Root=" + root + ";Sampled=0"},
		{"requested", trace.Header{Root: root, Sampled: trace.SampledRequested}, "Root=" + root + ";Sampled=?"},
		{"invalid sampling omitted", trace.Header{Root: root, Sampled: trace.Sampling(9)}, "Root=" + root},
		{"extra", trace.Header{Root: root, Parent: parent, Extra: []trace.Field{{"Lineage", "a:1"}, {"K", ""}}},
			"Root=" + root + ";Parent=" + parent + ";Lineage=a:1;K="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, in := range []string{
		"Root=" + root + ";Parent=" + parent + ";Sampled=1",
		"Root=" + root + ";Parent=" + parent + ";Sampled=0;Lineage=a87bd80c:1|68fd508a:5",
		"Root=" + root + ";Sampled=?",
		"Root=" + root,
	} {
		h, err := trace.ParseHeader(in)
		if err != nil {
			t.Fatalf("ParseHeader(%q) error: %v", in, err)
		}
		if got := h.String(); got != in {
			t.Errorf("ParseHeader(%q).String() = %q, want the input", in, got)
		}
	}
}

func TestSamplingString(t *testing.T) {
	tests := []struct {
		s    trace.Sampling
		want string
	}{
		{trace.SampledUnknown, "unknown"},
		{trace.SampledYes, "yes"},
		{trace.SampledNo, "no"},
		{trace.SampledRequested, "requested"},
		{trace.Sampling(9), "Sampling(9)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Sampling(%d).String() = %q, want %q", uint8(tt.s), got, tt.want)
		}
	}
}

func TestParseHeaderAllocs(t *testing.T) {
	in := "Root=" + root + ";Parent=" + parent + ";Sampled=1"
	got := testing.AllocsPerRun(100, func() {
		if _, err := trace.ParseHeader(in); err != nil {
			t.Fatal(err)
		}
	})
	if got != 0 {
		t.Errorf("ParseHeader allocs = %v, want 0", got)
	}
}
