//go:build !linux

package testenv

import (
	"os"
	"syscall"
)

// supported reports whether this system can run the servers.
const supported = false

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killSession(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
