package jwtauth_test

import "syscall"

var syscallRefused = syscall.ECONNREFUSED
