package cluster

import "syscall"

// procAttr runs a child as the account and, because this is Linux, asks the
// kernel to send it SIGINT (PostgreSQL's fast shutdown) if this process dies
// first. A test binary killed by -timeout, a panic or kill -9 then leaves no
// server running; only its directory stays behind.
//
// The signal is tied to the OS thread that started the child, not to the
// process; Go ends a thread only when a goroutine that locked it exits, which
// nothing here does.
func procAttr(a *account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: a.credential(), Pdeathsig: syscall.SIGINT}
}
