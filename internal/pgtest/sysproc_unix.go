//go:build unix && !linux

package pgtest

import (
	"errors"
	"syscall"
)

// sysProcAttr runs a PostgreSQL binary as u (nil: as ourselves). Only Linux
// can stop the server when the test process dies; elsewhere a crashed test
// binary leaves it running until its directory is swept.
func sysProcAttr(u *osUser, orphanKill bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if u != nil {
		attr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid}
	}
	return attr
}

// processAlive reports whether a process with this PID exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
