package metrics_test

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// This file is a strict reader of CloudWatch's Embedded Metric Format
// specification, which every document the tests produce goes through:
//
//   - a document is one JSON object on one line (no duplicate member names,
//     valid UTF-8, nothing before or after it), of at most 256 KB, the
//     limit of a CloudWatch Logs event;
//   - its member _aws is an object with Timestamp (a non-negative integer
//     number of milliseconds) and CloudWatchMetrics (an array of metric
//     directives), and nothing else but an optional LogGroupName string;
//   - a directive has exactly Namespace (a string of 1 to 255
//     characters), Dimensions (an array of dimension sets, each an array
//     of at most 30 distinct names, each naming a top-level member whose
//     value is a string of 1 to 1,024 characters) and Metrics (an array of
//     at most 100 metric definitions);
//   - a definition has Name (required, 1 to 255 characters, naming a
//     top-level member that is a number or an array of 1 to 100 numbers),
//     Unit (optional, one of CloudWatch's) and StorageResolution
//     (optional, 1 or 60), and no other member; a name is defined once in
//     a directive.

// emfDoc is a document that passed the checks.
type emfDoc struct {
	Timestamp  int64
	Namespace  string
	Dimensions []string          // the first dimension set
	DimValues  map[string]string // by dimension name
	Metrics    []emfMetric
	Values     map[string][]float64 // by metric name
	// Others are the top-level members that are neither _aws, a metric nor
	// a dimension: metadata.
	Others map[string]jsontext.Value
}

type emfMetric struct {
	Name              string
	Unit              string // "" when left out
	StorageResolution int    // 0 when left out
}

var cloudWatchUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// parseEMF checks one document, without its newline, against the
// specification.
func parseEMF(line []byte) (*emfDoc, error) {
	if len(line) > 256<<10 {
		return nil, fmt.Errorf("document of %d bytes, over CloudWatch Logs' 256 KB", len(line))
	}
	if bytes.ContainsAny(line, "\r\n") {
		return nil, fmt.Errorf("document spans lines")
	}
	var root map[string]jsontext.Value
	if err := json.Unmarshal(line, &root); err != nil { // duplicates and bad UTF-8 are errors
		return nil, fmt.Errorf("not one JSON object: %v", err)
	}
	rawAWS, ok := root["_aws"]
	if !ok {
		return nil, fmt.Errorf("no _aws member")
	}
	var aws struct {
		Timestamp         *jsontext.Value
		CloudWatchMetrics *[]jsontext.Value
		LogGroupName      *string
	}
	if err := json.Unmarshal(rawAWS, &aws, json.RejectUnknownMembers(true), json.MatchCaseInsensitiveNames(false)); err != nil {
		return nil, fmt.Errorf("_aws: %v", err)
	}
	if aws.Timestamp == nil || aws.CloudWatchMetrics == nil {
		return nil, fmt.Errorf("_aws lacks Timestamp or CloudWatchMetrics")
	}
	if aws.Timestamp.Kind() != '0' {
		return nil, fmt.Errorf("_aws.Timestamp %s is not a number", *aws.Timestamp)
	}
	var ts float64
	if err := json.Unmarshal(*aws.Timestamp, &ts); err != nil || ts < 0 || ts != math.Trunc(ts) {
		return nil, fmt.Errorf("_aws.Timestamp %s is not milliseconds since the epoch", *aws.Timestamp)
	}
	if len(*aws.CloudWatchMetrics) == 0 {
		return nil, fmt.Errorf("no metric directive")
	}
	doc := &emfDoc{Timestamp: int64(ts), DimValues: map[string]string{}, Values: map[string][]float64{}, Others: map[string]jsontext.Value{}}
	used := map[string]bool{"_aws": true}
	for di, rawDir := range *aws.CloudWatchMetrics {
		var dir struct {
			Namespace  *string
			Dimensions *[][]string
			Metrics    *[]struct {
				Name              *string
				Unit              *string
				StorageResolution *int
			}
		}
		if err := json.Unmarshal(rawDir, &dir, json.RejectUnknownMembers(true), json.MatchCaseInsensitiveNames(false)); err != nil {
			return nil, fmt.Errorf("directive %d: %v", di, err)
		}
		if dir.Namespace == nil || dir.Dimensions == nil || dir.Metrics == nil {
			return nil, fmt.Errorf("directive %d lacks Namespace, Dimensions or Metrics", di)
		}
		if n := utf8.RuneCountInString(*dir.Namespace); n < 1 || n > 255 || strings.TrimSpace(*dir.Namespace) == "" {
			return nil, fmt.Errorf("namespace %q", *dir.Namespace)
		}
		for si, set := range *dir.Dimensions {
			if len(set) > 30 {
				return nil, fmt.Errorf("dimension set %d has %d dimensions, over 30", si, len(set))
			}
			for k, name := range set {
				if len(name) < 1 || len(name) > 255 || slices.Contains(set[:k], name) {
					return nil, fmt.Errorf("dimension name %q (empty, too long or repeated)", name)
				}
				raw, ok := root[name]
				if !ok {
					return nil, fmt.Errorf("dimension %q has no member", name)
				}
				var v string
				if raw.Kind() != '"' || json.Unmarshal(raw, &v) != nil {
					return nil, fmt.Errorf("dimension %q is %s, not a string", name, raw)
				}
				if len(v) < 1 || len(v) > 1024 {
					return nil, fmt.Errorf("dimension %q value of %d characters", name, len(v))
				}
				doc.DimValues[name] = v
				used[name] = true
			}
		}
		if len(*dir.Dimensions) > 0 && di == 0 {
			doc.Dimensions = (*dir.Dimensions)[0]
		}
		if n := len(*dir.Metrics); n > 100 {
			return nil, fmt.Errorf("directive %d defines %d metrics, over 100", di, n)
		}
		for _, md := range *dir.Metrics {
			if md.Name == nil {
				return nil, fmt.Errorf("metric definition without Name")
			}
			name := *md.Name
			if n := utf8.RuneCountInString(name); n < 1 || n > 255 {
				return nil, fmt.Errorf("metric name %q of %d characters", name, n)
			}
			m := emfMetric{Name: name}
			if md.Unit != nil {
				if !slices.Contains(cloudWatchUnits, *md.Unit) {
					return nil, fmt.Errorf("metric %q: unit %q is not CloudWatch's", name, *md.Unit)
				}
				m.Unit = *md.Unit
			}
			if md.StorageResolution != nil {
				if r := *md.StorageResolution; r != 1 && r != 60 {
					return nil, fmt.Errorf("metric %q: StorageResolution %d", name, r)
				}
				m.StorageResolution = *md.StorageResolution
			}
			if _, dup := doc.Values[name]; dup || used[name] && di == 0 {
				return nil, fmt.Errorf("metric %q defined twice, or also a dimension", name)
			}
			raw, ok := root[name]
			if !ok {
				return nil, fmt.Errorf("metric %q has no member", name)
			}
			vs, err := emfValues(raw)
			if err != nil {
				return nil, fmt.Errorf("metric %q: %v", name, err)
			}
			doc.Metrics = append(doc.Metrics, m)
			doc.Values[name] = vs
			used[name] = true
		}
		if di == 0 {
			doc.Namespace = *dir.Namespace
		}
	}
	for k, v := range root {
		if !used[k] {
			doc.Others[k] = v
		}
	}
	return doc, nil
}

// emfValues reads a metric's member: a number, or an array of 1 to 100
// numbers.
func emfValues(raw jsontext.Value) ([]float64, error) {
	switch raw.Kind() {
	case '0':
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return []float64{v}, nil
	case '[':
		var elems []jsontext.Value
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		if len(elems) < 1 || len(elems) > 100 {
			return nil, fmt.Errorf("%d values; EMF takes 1 to 100", len(elems))
		}
		vs := make([]float64, len(elems))
		for i, e := range elems {
			if e.Kind() != '0' {
				return nil, fmt.Errorf("value %s is not a number", e)
			}
			if err := json.Unmarshal(e, &vs[i]); err != nil {
				return nil, err
			}
		}
		return vs, nil
	}
	return nil, fmt.Errorf("%s is neither a number nor an array", raw)
}

// parseOutput checks what an Emitter wrote: newline-terminated documents,
// each valid EMF. It fails t on any violation.
func parseOutput(t testing.TB, out []byte) []*emfDoc {
	t.Helper()
	if len(out) == 0 {
		return nil
	}
	if out[len(out)-1] != '\n' {
		t.Fatalf("output does not end with a newline: %q", tail(out))
	}
	var docs []*emfDoc
	for line := range bytes.Lines(out) {
		d, err := parseEMF(bytes.TrimSuffix(line, []byte("\n")))
		if err != nil {
			t.Fatalf("invalid EMF: %v\n%s", err, tail(line))
		}
		docs = append(docs, d)
	}
	return docs
}

func tail(b []byte) []byte {
	if len(b) > 600 {
		return append(b[:300:300], append([]byte(" ... "), b[len(b)-300:]...)...)
	}
	return b
}

// TestParseEMFRefuses: the reader refuses documents that break the
// specification, so that its passing the Emitter's output means something.
func TestParseEMFRefuses(t *testing.T) {
	good := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[["service"]],"Metrics":[{"Name":"m","Unit":"Count"}]}]},"service":"s","m":1}`
	if _, err := parseEMF([]byte(good)); err != nil {
		t.Fatalf("a valid document refused: %v", err)
	}
	many := func(n int, f func(i int) string) string {
		var parts []string
		for i := range n {
			parts = append(parts, f(i))
		}
		return strings.Join(parts, ",")
	}
	bad := map[string]string{
		"no _aws":             `{"service":"s","m":1}`,
		"no timestamp":        `{"_aws":{"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[["service"]],"Metrics":[{"Name":"m"}]}]},"service":"s","m":1}`,
		"string timestamp":    strings.Replace(good, `"Timestamp":1`, `"Timestamp":"1"`, 1),
		"extra _aws member":   strings.Replace(good, `"Timestamp":1`, `"Timestamp":1,"X":1`, 1),
		"extra directive key": strings.Replace(good, `"Namespace":"ns"`, `"Namespace":"ns","X":1`, 1),
		"lower-case key":      strings.Replace(good, `"Namespace"`, `"namespace"`, 1),
		"no namespace":        strings.Replace(good, `"Namespace":"ns",`, ``, 1),
		"unknown unit":        strings.Replace(good, `"Count"`, `"count"`, 1),
		"resolution 5":        strings.Replace(good, `"Unit":"Count"`, `"Unit":"Count","StorageResolution":5`, 1),
		"missing metric":      strings.Replace(good, `,"m":1`, ``, 1),
		"string metric":       strings.Replace(good, `"m":1`, `"m":"1"`, 1),
		"null metric":         strings.Replace(good, `"m":1`, `"m":null`, 1),
		"empty array":         strings.Replace(good, `"m":1`, `"m":[]`, 1),
		"array with a string": strings.Replace(good, `"m":1`, `"m":[1,"2"]`, 1),
		"101 values":          strings.Replace(good, `"m":1`, `"m":[`+many(101, func(int) string { return "1" })+`]`, 1),
		"missing dimension":   strings.Replace(good, `"service":"s",`, ``, 1),
		"number dimension":    strings.Replace(good, `"service":"s"`, `"service":1`, 1),
		"empty dimension":     strings.Replace(good, `"service":"s"`, `"service":""`, 1),
		"31 dimensions": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[[` +
			many(31, func(i int) string { return fmt.Sprintf(`"d%d"`, i) }) + `]],"Metrics":[{"Name":"m"}]}]},` +
			many(31, func(i int) string { return fmt.Sprintf(`"d%d":"v"`, i) }) + `,"m":1}`,
		"101 metrics": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[[]],"Metrics":[` +
			many(101, func(i int) string { return fmt.Sprintf(`{"Name":"m%d"}`, i) }) + `]}]},` +
			many(101, func(i int) string { return fmt.Sprintf(`"m%d":1`, i) }) + `}`,
		"duplicate member": good[:len(good)-1] + `,"m":2}`,
		"trailing data":    good + `{}`,
		"two lines":        strings.Replace(good, `,"m":1`, ",\n\"m\":1", 1),
	}
	for name, doc := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := parseEMF([]byte(doc)); err == nil {
				t.Errorf("accepted %s", doc)
			}
		})
	}
}
