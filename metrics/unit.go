package metrics

// Unit is a metric's unit, spelled as CloudWatch spells it: only the
// constants below are valid, and [Add] refuses any other (an empty Unit
// included; use [None] for a unitless value).
type Unit string

// The units CloudWatch knows.
const (
	Seconds      Unit = "Seconds"
	Microseconds Unit = "Microseconds"
	Milliseconds Unit = "Milliseconds"

	Bytes     Unit = "Bytes"
	Kilobytes Unit = "Kilobytes"
	Megabytes Unit = "Megabytes"
	Gigabytes Unit = "Gigabytes"
	Terabytes Unit = "Terabytes"
	Bits      Unit = "Bits"
	Kilobits  Unit = "Kilobits"
	Megabits  Unit = "Megabits"
	Gigabits  Unit = "Gigabits"
	Terabits  Unit = "Terabits"

	Percent Unit = "Percent"
	Count   Unit = "Count"

	BytesPerSecond     Unit = "Bytes/Second"
	KilobytesPerSecond Unit = "Kilobytes/Second"
	MegabytesPerSecond Unit = "Megabytes/Second"
	GigabytesPerSecond Unit = "Gigabytes/Second"
	TerabytesPerSecond Unit = "Terabytes/Second"
	BitsPerSecond      Unit = "Bits/Second"
	KilobitsPerSecond  Unit = "Kilobits/Second"
	MegabitsPerSecond  Unit = "Megabits/Second"
	GigabitsPerSecond  Unit = "Gigabits/Second"
	TerabitsPerSecond  Unit = "Terabits/Second"
	CountPerSecond     Unit = "Count/Second"

	None Unit = "None"
)

// Valid reports whether u is one of CloudWatch's units.
func (u Unit) Valid() bool {
	switch u {
	case Seconds, Microseconds, Milliseconds,
		Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes,
		Bits, Kilobits, Megabits, Gigabits, Terabits,
		Percent, Count,
		BytesPerSecond, KilobytesPerSecond, MegabytesPerSecond, GigabytesPerSecond, TerabytesPerSecond,
		BitsPerSecond, KilobitsPerSecond, MegabitsPerSecond, GigabitsPerSecond, TerabitsPerSecond,
		CountPerSecond, None:
		return true
	}
	return false
}

// Resolution is a metric's storage resolution in seconds, the
// StorageResolution of EMF: CloudWatch keeps a [High] resolution metric to
// the second, a [Standard] one to the minute.
type Resolution int

const (
	// Standard resolution (60 s), the default: the document leaves
	// StorageResolution out.
	Standard Resolution = 60
	// High resolution (1 s): the document says StorageResolution 1.
	// CloudWatch charges more for it, and for alarms on it.
	High Resolution = 1
)
