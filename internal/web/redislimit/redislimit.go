// Package redislimit is the rate limiter of a fleet: the web.Limiter whose
// allowances live in Redis, shared by every instance of the service
// (docs/04-rate-limiting.md).
package redislimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// gcraScript is the GCRA of web.MemoryLimiter.Allow, run inside Redis so that
// every instance of the service spends from the same allowance, atomically
// (a Lua script runs without interleaving) and on one clock: Redis's TIME,
// not the callers' clocks, which can drift apart.
//
// KEYS[1] key; ARGV interval (µs), burst, cost.
// Returns {allowed (0/1), remaining, retry_after (µs), reset_after (µs)}.
const gcraScript = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local width = interval * burst
local function store(v)
  redis.call('SET', KEYS[1], string.format('%d', v), 'PX', math.floor((v - now) / 1000) + 1)
end
if cost < 0 then
  local refunded = tat + interval * cost
  if refunded < now then refunded = now end
  store(refunded)
  return {1, math.floor((now - (refunded - width)) / interval), 0, refunded - now}
end
local n = cost
if n == 0 then n = 1 end
local new_tat = tat + interval * n
local allow_at = new_tat - width
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
if cost > 0 then store(new_tat) else new_tat = tat end
return {1, math.floor((now - (new_tat - width)) / interval), 0, new_tat - now}
`

// Limiter is the limiter of a fleet: all instances share the allowances
// kept in Redis, so the limits hold for the service as a whole, not per
// instance (docs/04-rate-limiting.md).
type Limiter struct {
	client  *redis.Client
	gcra    *redis.Script
	backoff *redis.Script
}

// New uses client, which should fail fast (NewClient).
func New(client *redis.Client) *Limiter {
	return &Limiter{client: client, gcra: redis.NewScript(gcraScript), backoff: redis.NewScript(backoffScript)}
}

// NewClient connects to url with short timeouts and no retries: a limiter
// that waits seconds for Redis adds those seconds to every request, so
// when Redis is slow or down the caller must learn it at once and fall back
// (web.ResilientLimiter).
func NewClient(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		// The parse error may quote the URL and its password.
		return nil, errors.New("REDIS_URL is not a valid redis:// URL")
	}
	opts.DialTimeout = 250 * time.Millisecond
	opts.ReadTimeout = 250 * time.Millisecond
	opts.WriteTimeout = 250 * time.Millisecond
	opts.MaxRetries = -1
	// go-redis also retries a failed dial (5 times by default): one try,
	// so an unreachable Redis costs one dial timeout, not five.
	opts.DialerRetries = 1
	return redis.NewClient(opts), nil
}

// Allow implements web.Limiter.
func (r *Limiter) Allow(ctx context.Context, key string, p web.Policy, cost int) (web.Decision, error) {
	if p.Burst < 1 || p.Period <= 0 {
		return web.Decision{}, fmt.Errorf("rate limit policy %q is invalid", p.Name)
	}
	res, err := r.gcra.Run(ctx, r.client, []string{redisKey(p.Name, key)},
		p.Interval().Microseconds(), p.Burst, cost).Int64Slice()
	if err != nil {
		return web.Decision{}, fmt.Errorf("redis limiter: %w", err)
	}
	if len(res) != 4 {
		return web.Decision{}, fmt.Errorf("redis limiter: unexpected reply %v", res)
	}
	return web.Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		ResetAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}

// backoffScript is web.MemoryLimiter.Attempt inside Redis, on Redis's clock.
// Its keys get their own prefix: a hash, never to be read or deleted as a
// GCRA allowance of the same policy name.
// KEYS[1] key; ARGV free, base (µs), max (µs), forget (ms). Returns the
// wait in µs (0 = recorded and allowed).
const backoffScript = `
local free, base, max, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or 0)
local nxt = tonumber(redis.call('HGET', KEYS[1], 'next') or 0)
if now < nxt then return nxt - now end
n = n + 1
local d = 0
if n > free then
  d = base
  for i = free + 2, n do
    if d >= max then break end
    d = d * 2
  end
  if d > max then d = max end
end
redis.call('HSET', KEYS[1], 'n', n, 'next', string.format('%d', now + d))
redis.call('PEXPIRE', KEYS[1], forget)
return 0
`

// Attempt implements web.Backoff.
func (r *Limiter) Attempt(ctx context.Context, key string, p web.BackoffPolicy) (time.Duration, error) {
	wait, err := r.backoff.Run(ctx, r.client, []string{redisKey("backoff:"+p.Name, key)},
		p.Free, p.Base.Microseconds(), p.Max.Microseconds(), p.Forget.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis backoff: %w", err)
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// Reset implements web.Backoff.
func (r *Limiter) Reset(ctx context.Context, key string, p web.BackoffPolicy) error {
	if err := r.client.Del(ctx, redisKey("backoff:"+p.Name, key)).Err(); err != nil {
		return fmt.Errorf("redis backoff reset: %w", err)
	}
	return nil
}

// redisKey hashes the key: keys hold emails and addresses, and a Redis
// shared with other services should not hold a readable list of them.
func redisKey(policy, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "bulwark:rl:" + policy + ":" + hex.EncodeToString(sum[:16])
}
