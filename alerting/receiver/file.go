package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// FileConfig is outpost's file_config: append each notification to a file
// as one JSON line, the webhook payload (version 4, with notificationId).
type FileConfig struct {
	// Path is the file; it is created (mode 0640) when missing, and
	// opened anew for each notification, so it may be rotated by moving
	// it aside. Its directory must exist.
	Path string `koanf:"path"`
	// SendResolved writes resolved alerts too (default true).
	SendResolved *bool `koanf:"send_resolved"`
}

// Validate names the first bad key.
func (c FileConfig) Validate() error {
	if c.Path == "" {
		return fmt.Errorf("path: %w", errMissing)
	}
	return nil
}

// file is the Integration of a FileConfig.
type file struct {
	name string
	cfg  FileConfig
	// mu serializes the writes of this integration, so two lines are never
	// interleaved even where O_APPEND writes are not atomic.
	mu sync.Mutex
}

func newFile(c FileConfig, sh shared) *file { return &file{name: sh.name, cfg: c} }

// Name implements Integration.
func (f *file) Name() string { return f.name }

// SendResolved implements Integration.
func (f *file) SendResolved() bool { return boolOr(f.cfg.SendResolved, true) }

// Send appends n's line with one write and syncs the file before it
// returns. Every failure (the directory missing, the disk full) is
// retryable: an operator can fix it.
func (f *file) Send(ctx context.Context, n *Notification) error {
	if n = withoutResolved(n, f.SendResolved()); n == nil {
		return nil
	}
	line, err := json.Marshal(newWebhookMessage(n, 0))
	if err != nil {
		return Permanent(fmt.Errorf("encode notification for %s: %w", f.cfg.Path, err))
	}
	line = append(line, '\n')
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append notification to %s: %w", f.cfg.Path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(f.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("append notification: %w", err) // names the path
	}
	_, werr := fh.Write(line)
	if werr == nil {
		werr = fh.Sync()
	}
	if cerr := fh.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("append notification to %s: %w", f.cfg.Path, werr)
	}
	return nil
}
