//go:build !workshop

package app

import (
	"context"
	"fmt"
	"io"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// workshopSettings are the variables only the workshop build reads.
func workshopSettings() []string {
	return []string{"BULWARK_VULNS", "BULWARK_WORKSHOP_ALLOW_REMOTE"}
}

// checkWorkshopSettings refuses to start the secure build with a workshop
// setting: someone who sets BULWARK_VULNS believes the server is
// vulnerable on purpose, and should learn at once that this binary has no
// such code (docs/workshop.md).
func checkWorkshopSettings(getenv func(string) string, _ config.Config) error {
	for _, name := range workshopSettings() {
		if getenv(name) != "" {
			return fmt.Errorf("%s is set, but this is the secure build, which contains no vulnerable code: build the workshop binary with go build -tags workshop ./cmd/api", name)
		}
	}
	return nil
}

// applyWorkshop is a no-op in the secure build.
func applyWorkshop(_ context.Context, _ func(string) string, _ Deps, parts Parts, _ io.Writer) (Parts, func(*echo.Echo), func(), error) {
	return parts, func(*echo.Echo) {}, func() {}, nil
}
