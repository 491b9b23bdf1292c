package wolkvox

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy is capped exponential backoff with jitter. The API has no 429
// and no Retry-After, so the client picks its own pace.
type RetryPolicy struct {
	Attempts int           // calls per window at most, the first included; default 3
	Initial  time.Duration // first backoff; default 2 s
	Max      time.Duration // cap on one backoff; default 30 s
	// Sleep waits for d or until ctx is done. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 3
	}
	if p.Initial <= 0 {
		p.Initial = 2 * time.Second
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	return p
}

// backoff returns the wait before retry n (0-based): full exponential
// growth capped at Max, then scaled by a random factor in [0.5, 1) so that
// several exporters that failed together do not retry together.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Initial
	for i := 0; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	return time.Duration(float64(d) * (0.5 + rand.Float64()/2))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
