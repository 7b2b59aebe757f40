//go:build !unix

package pgtest

import "syscall"

// sysProcAttr returns nil: there is no root to step down from, and no way
// to tie the server's life to ours.
func sysProcAttr(u *osUser, orphanKill bool) *syscall.SysProcAttr { return nil }

// processAlive assumes every process is alive, so that no directory is
// removed from under a running server.
func processAlive(pid int) bool { return true }
