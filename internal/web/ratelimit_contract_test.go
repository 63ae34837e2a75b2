package web_test

import (
	"testing"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/limitertest"
)

// The in-memory limiter keeps the contract that the Redis limiter keeps too
// (redislimit), so a fleet that moves from one to the other keeps the same
// limits.
func TestLimiterContract(t *testing.T) {
	limitertest.Run(t, func(*testing.T) web.Limiter { return web.NewMemoryLimiter() })
}
