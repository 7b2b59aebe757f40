package pgtest

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr runs a PostgreSQL binary as u (nil: as ourselves). For the
// server itself (orphanKill), the kernel sends it SIGQUIT, PostgreSQL's
// immediate shutdown, when the test process dies without calling Stop.
func sysProcAttr(u *osUser, orphanKill bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if u != nil {
		attr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid}
	}
	if orphanKill {
		attr.Pdeathsig = syscall.SIGQUIT
	}
	return attr
}

// processAlive reports whether a process with this PID exists and is not a
// zombie (a dead server nobody reaped, as happens in containers).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	_, rest, _ := strings.Cut(string(stat[strings.LastIndexByte(string(stat), ')')+1:]), " ")
	return !strings.HasPrefix(rest, "Z")
}
