package main

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

// cpuTime is a process's CPU time so far, all its threads together,
// those that have exited included.
type cpuTime struct {
	// total is user and system time from the process's scheduler clock,
	// to the nanosecond.
	total time.Duration
	// user and prof (user and system) are the kernel's tick-based
	// accounting: each tick charges a whole tick to the thread that runs
	// on the ticking CPU, as user or system time. They are the figures
	// /proc/<pid>/stat shows as utime and stime (there scaled to sum to
	// total, and in clock ticks), here unscaled, used only to split total.
	user, prof time.Duration
}

// The kinds of a process's CPU clock, in the clock id that
// clock_getcpuclockid(3) makes from a pid (include/linux/posix-timers.h).
const (
	cpuClockProf  = 0 // user and system time, tick-based
	cpuClockVirt  = 1 // user time, tick-based
	cpuClockSched = 2 // user and system time, from the scheduler
)

// readCPU returns the CPU time of the process pid so far. It reads the
// process's CPU clocks with clock_gettime, which covers every thread, with
// no /proc parsing and with a finer resolution than /proc's clock ticks.
func readCPU(pid int) (cpuTime, error) {
	var c cpuTime
	var err error
	if c.total, err = processClock(pid, cpuClockSched); err != nil {
		return c, err
	}
	if c.user, err = processClock(pid, cpuClockVirt); err != nil {
		return c, err
	}
	c.prof, err = processClock(pid, cpuClockProf)
	return c, err
}

// processClock reads the CPU clock of the given kind of the process pid.
func processClock(pid, kind int) (time.Duration, error) {
	id := (^pid)<<3 | kind // MAKE_PROCESS_CPUCLOCK(pid, kind)
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(id), uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, fmt.Errorf("reading the CPU clock of process %d: %w", pid, errno)
	}
	return time.Duration(ts.Nano()), nil
}
