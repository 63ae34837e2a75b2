// Command attack is the workshop attack runner: it runs the attack catalogue
// (tools/attack) against a running Bulwark and prints one verdict per
// attack, with the evidence for it.
//
//	make demo                                  # in one terminal: the seeded server on 127.0.0.1:8080
//	go run ./tools/cmd/attack                        # every attack, as a table
//	go run ./tools/cmd/attack -issue bola            # one issue (the slugs of docs/)
//	go run ./tools/cmd/attack -attack auth/jwt-alg-none -signing-key dev
//	go run ./tools/cmd/attack -list                  # the catalogue; sends nothing
//	go run ./tools/cmd/attack -json > verdicts.json  # machine-readable verdicts
//	go run ./tools/cmd/attack -issue battery -signing-key dev  # the OpenAPI battery: every documented operation
//	go run ./tools/cmd/attack score -sqlmap results.csv -ffuf ffuf.json  # a scanner's findings against the workshop's ground truth
//
// The attacks send real exploit traffic, so the runner refuses any target
// that is not this machine (loopback) unless -allow-remote is given.
//
// Exit status:
//
//	0  no attack exploited the target and every attack ran
//	1  at least one attack EXPLOITED the target
//	2  a usage error, or an attack could not run (its verdict is unknown)
//
// The statuses let the runner guard a deployment in CI: a pipeline that
// boots the service and runs `attack` fails on 1 (a defence is missing) and
// on 2 (the check itself did not complete), and never mistakes an attack
// that could not run for one that was blocked.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM cancel ctx: the running attack stops, the verdicts
	// so far are still printed, and the exit status says the run is incomplete.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		_, _ = fmt.Fprintln(os.Stderr, "attack:", err)
	}
	os.Exit(exitStatus(err))
}
