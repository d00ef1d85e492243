package testenv

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// supported reports whether this system can run the servers.
const supported = true

// sysProcAttr starts a server as the leader of a new session. Its children
// stay in that session even when they move to process groups of their own
// (the emulator starts the function in a new group), which is how
// killSession finds them. Pdeathsig kills the server if the test binary dies
// without running its cleanups (a test timeout, say).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// killSession kills the session leader sid, then every live process of its
// session, until none is left or a second has passed.
func killSession(sid int) {
	_ = syscall.Kill(-sid, syscall.SIGKILL) // the leader's own group first: it stops starting others
	for range 100 {
		pids := sessionMembers(sid)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sessionMembers lists the processes of session sid that are not zombies,
// read from /proc.
func sessionMembers(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone already
		}
		state, session, ok := parseStat(stat)
		if ok && session == sid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parseStat returns the state and session id from the contents of
// /proc/PID/stat: "pid (comm) state ppid pgrp session ...", where comm may
// hold spaces and parentheses.
func parseStat(stat []byte) (state byte, session int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 4 || len(f[0]) != 1 {
		return 0, 0, false
	}
	session, err := strconv.Atoi(string(f[3]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], session, true
}
