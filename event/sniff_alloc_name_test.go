package event

import (
	"strings"
	"testing"
)

// TestSniffEscapedNameAllocates: the signature's doc says it allocates
// nothing unless escaped values outgrow its 256-byte buffer. An escaped
// member name short enough to be unescaped (at most 86 bytes quoted) but
// holding invalid UTF-8, which unescaping turns into three-byte U+FFFD each,
// outgrows sig.name and makes every Sniff allocate.
func TestSniffEscapedNameAllocates(t *testing.T) {
	name := `"\u0041` + strings.Repeat("\xff", 78) + `"`
	payload := []byte(`{` + name + `:1,"Records":[{"eventSource":"aws:sqs"}]}`)
	if k, err := Sniff(payload); err != nil || k != SQS {
		t.Fatalf("Sniff: %v, %v", k, err)
	}
	if n := testing.AllocsPerRun(100, func() { Sniff(payload) }); n != 0 {
		t.Errorf("Sniff allocates %v times per call on a %d-byte escaped name", n, len(name))
	}
}
