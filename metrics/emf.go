package metrics

import (
	"math"
	"strconv"

	"github.com/funcify/funcify/internal/jsonstr"
)

// maxDocBytes is the size past which a document of several metrics is
// split further: CloudWatch Logs takes events of 256 KB at most, and
// Lambda adds a little to each line.
const maxDocBytes = 200 << 10

// docHead opens every document, up to its timestamp.
const docHead = `{"_aws":{"Timestamp":`

// appendDocs appends the EMF documents of s's metrics to dst, one a line:
// the cold-start document if due, then the metrics in rounds, round r
// holding the values 100r to 100r+99 of each metric that has them, split
// in documents of 100 metrics at most, and fewer when a document would
// pass maxDocBytes (long names and values). A set without values appends
// nothing.
func (e *Emitter) appendDocs(dst []byte, s *set) []byte {
	ts := s.start.UnixMilli()
	if s.cold {
		dst = append(dst, docHead...)
		dst = strconv.AppendInt(dst, ts, 10)
		dst = append(dst, e.coldTail...)
	}
	n := len(s.metrics)
	for lo := 0; ; lo += maxValuesPerDoc {
		found := false
		for i := 0; i < n; {
			for i < n && len(s.metrics[i].values) <= lo {
				i++
			}
			if i == n {
				break
			}
			found = true
			for limit := maxMetricsPerDoc; ; limit /= 2 {
				j, k := i, 0
				for j < n && k < limit {
					if len(s.metrics[j].values) > lo {
						k++
					}
					j++
				}
				mark := len(dst)
				dst = e.appendDoc(dst, s, ts, s.metrics[i:j], lo)
				if len(dst)-mark <= maxDocBytes || k == 1 {
					i = j
					break
				}
				dst = dst[:mark] // too big for a log event: fewer metrics
			}
		}
		if !found {
			return dst
		}
	}
}

// appendDoc appends the document of the values lo to lo+99 of the metrics
// ms that have them.
func (e *Emitter) appendDoc(dst []byte, s *set, ts int64, ms []metric, lo int) []byte {
	dst = append(dst, docHead...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, e.docMiddle...)
	first := true
	s.eachDimension(func(name, _ string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, name)
	})
	dst = append(dst, `]],"Metrics":[`...)
	first = true
	for i := range ms {
		m := &ms[i]
		if len(m.values) <= lo {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"Name":`...)
		dst = appendString(dst, m.name)
		dst = append(dst, `,"Unit":"`...)
		dst = append(dst, m.unit...)
		dst = append(dst, '"')
		if m.res == High {
			dst = append(dst, `,"StorageResolution":1`...)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `]}]}`...)
	s.eachDimension(func(name, value string) {
		dst = append(dst, ',')
		dst = appendString(dst, name)
		dst = append(dst, ':')
		dst = appendString(dst, value)
	})
	for i := range ms {
		m := &ms[i]
		if len(m.values) <= lo {
			continue
		}
		vs := m.values[lo:min(len(m.values), lo+maxValuesPerDoc)]
		dst = append(dst, ',')
		dst = appendString(dst, m.name)
		dst = append(dst, ':')
		if len(vs) == 1 {
			dst = appendFloat(dst, vs[0])
			continue
		}
		dst = append(dst, '[')
		for k, v := range vs {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = appendFloat(dst, v)
		}
		dst = append(dst, ']')
	}
	for _, md := range s.meta {
		if md.key == "" {
			continue
		}
		dst = append(dst, s.metaBuf[md.start:md.end]...)
	}
	return append(dst, "}\n"...)
}

// eachDimension calls f with each dimension of s: the Emitter's, with the
// values AddDimension gave them, then the others AddDimension added.
func (s *set) eachDimension(f func(name, value string)) {
	for _, d := range s.e.dims {
		v := d.value
		for _, o := range s.dims {
			if o.name == d.name {
				v = o.value
				break
			}
		}
		f(d.name, v)
	}
	if s.extra == 0 {
		return
	}
	for _, o := range s.dims {
		if !s.e.isOwn(o.name) {
			f(o.name, o.value)
		}
	}
}

// isOwn reports whether name is one of e's dimensions.
func (e *Emitter) isOwn(name string) bool {
	for _, d := range e.dims {
		if d.name == name {
			return true
		}
	}
	return false
}

// appendColdTail appends what follows the cold-start document's
// timestamp.
func (e *Emitter) appendColdTail(dst []byte, function string) []byte {
	dst = append(dst, `,"CloudWatchMetrics":[{"Namespace":`...)
	dst = appendString(dst, e.namespace)
	dst = append(dst, `,"Dimensions":[[`...)
	dst = appendString(dst, ServiceDimension)
	if function != "" {
		dst = append(dst, ',')
		dst = appendString(dst, FunctionNameDimension)
	}
	dst = append(dst, `]],"Metrics":[{"Name":`...)
	dst = appendString(dst, ColdStartMetric)
	dst = append(dst, `,"Unit":"Count"}]}]},`...)
	dst = appendString(dst, ServiceDimension)
	dst = append(dst, ':')
	dst = appendString(dst, e.dims[0].value)
	if function != "" {
		dst = append(dst, ',')
		dst = appendString(dst, FunctionNameDimension)
		dst = append(dst, ':')
		dst = appendString(dst, function)
	}
	dst = append(dst, ',')
	dst = appendString(dst, ColdStartMetric)
	return append(dst, ":1}\n"...)
}

// appendFloat appends v as a JSON number that parses back to v exactly,
// in the form encoding/json chooses.
func appendFloat(dst []byte, v float64) []byte {
	if i := int64(v); float64(i) == v && i > -1<<53 && i < 1<<53 && (i != 0 || !math.Signbit(v)) {
		return strconv.AppendInt(dst, i, 10) // a count: the common case, and faster
	}
	format := byte('f')
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, v, format, -1, 64)
}

// appendString appends s as a JSON string. s is valid UTF-8 (names and
// values are checked); an invalid byte would be written as U+FFFD.
func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s) }
