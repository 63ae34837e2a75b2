//go:build !linux

package cluster

import "syscall"

// procAttr runs a child as the account. Outside Linux there is no parent-death
// signal, so a server outlives a crashed caller: defer Stop.
func procAttr(a *account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: a.credential()}
}
