//go:build !linux

package main

import (
	"errors"
	"fmt"
	"time"
)

// cpuTime is a process's CPU time so far; see cpu_linux.go.
type cpuTime struct {
	total, user, prof time.Duration
}

// readCPU needs Linux's per-process CPU clocks.
func readCPU(pid int) (cpuTime, error) {
	return cpuTime{}, fmt.Errorf("reading the CPU clock of process %d: %w", pid, errors.ErrUnsupported)
}
