package promrw

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/golang/snappy"
)

// Backoff between failed sends: doubling from minBackoff to maxBackoff,
// each pause drawn at random in its upper half (jitter), or Retry-After
// when the target says longer (up to maxRetryAfter).
const (
	minBackoff    = 250 * time.Millisecond
	maxBackoff    = 30 * time.Second
	maxRetryAfter = 5 * time.Minute
)

// sendResult is how one send ended.
type sendResult int

const (
	sentOK    sendResult = iota // 2xx: commit
	sentRetry                   // 5xx, 429, network: send again later
	sentDrop                    // other 4xx: the target will never take it
)

// send drains t's queue to its target until ctx ends. The cursor moves
// only after a 2xx (or a 4xx that will never succeed), so a batch is
// never lost; one cut short by a crash is sent again.
func (f *Forwarder) send(ctx context.Context, t *target) {
	log := f.log.With("target", t.cfg.Name)
	var buf, enc []byte
	var last time.Time
	backoff, down := minBackoff, false
	for ctx.Err() == nil {
		b, err := t.q.Read(buf[:0], t.cfg.MaxSamplesPerSend)
		if err != nil {
			log.Error("read forward queue", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		buf = b.Request
		if b.Samples == 0 {
			select {
			case <-ctx.Done():
			case <-t.wake:
			}
			continue
		}
		if wait := t.cfg.FlushInterval - f.opts.Now().Sub(last); b.Samples < t.cfg.MaxSamplesPerSend && wait > 0 {
			sleep(ctx, wait)
			continue // read again: more may have come
		}
		last = f.opts.Now()
		enc = snappy.Encode(enc[:cap(enc)], b.Request)
		res, retryAfter, err := f.post(ctx, t, enc)
		switch res {
		case sentOK:
			if err := t.q.Commit(b); err != nil {
				log.Error("save forward queue cursor", "err", err)
			}
			t.sent.Add(int64(b.Samples))
			t.lastSuccess.Store(f.opts.Now().UnixMilli())
			if down {
				log.Info("target reachable again; sending the queue")
			}
			backoff, down = minBackoff, false
		case sentDrop:
			if err := t.q.Commit(b); err != nil {
				log.Error("save forward queue cursor", "err", err)
			}
			t.rejected.Add(int64(b.Samples))
			log.Warn("target refused a batch; dropped", "samples", b.Samples, "err", err)
		case sentRetry:
			if ctx.Err() != nil {
				return // shutting down: the batch stays queued
			}
			t.failed.Add(int64(b.Samples))
			t.retries.Add(1)
			if !down {
				log.Warn("cannot send to the target; queueing and retrying", "err", err)
				down = true
			}
			pause := backoff/2 + rand.N(backoff/2+1)
			sleep(ctx, max(pause, min(retryAfter, maxRetryAfter)))
			backoff = min(backoff*2, maxBackoff)
		}
	}
}

// post sends one snappy-compressed WriteRequest and says how it ended,
// with the target's Retry-After and what went wrong.
func (f *Forwarder) post(ctx context.Context, t *target, body []byte) (sendResult, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return sentDrop, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "outpost")
	req.Header.Set(forwardedHeader, "1")
	switch {
	case t.cfg.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+t.cfg.BearerToken)
	case t.cfg.BasicAuth.Username != "":
		req.SetBasicAuth(t.cfg.BasicAuth.Username, t.cfg.BasicAuth.Password)
	}
	start := time.Now()
	resp, err := f.opts.Client.Do(req)
	t.sendNanos.Add(int64(time.Since(start)))
	t.sends.Add(1)
	if err != nil {
		return sentRetry, 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch c := resp.StatusCode; {
	case c/100 == 2:
		return sentOK, 0, nil
	case c == http.StatusTooManyRequests || c/100 == 5:
		return sentRetry, retryAfter(resp.Header.Get("Retry-After"), f.opts.Now()), fmt.Errorf("HTTP %d: %s", c, bytes.TrimSpace(msg))
	default:
		return sentDrop, 0, fmt.Errorf("HTTP %d: %s", c, bytes.TrimSpace(msg))
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}
