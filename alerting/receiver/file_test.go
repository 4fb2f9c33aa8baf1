package receiver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestFile_Send(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notifications.jsonl")
	it := buildOne(t, Config{Name: "ops", FileConfigs: []FileConfig{{Path: path}}}, DefaultGlobal())
	for range 2 {
		if err := it.Send(t.Context(), testNotification()); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Each line is the webhook payload, byte for byte.
	srv := newCapture(t, http.StatusOK, "")
	hook := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL}}}, DefaultGlobal())
	if err := hook.Send(t.Context(), testNotification()); err != nil {
		t.Fatal(err)
	}
	line := append(srv.requests()[0].Body, '\n')
	if want := append(append([]byte{}, line...), line...); !bytes.Equal(got, want) {
		t.Errorf("file holds\n%s\nwant two webhook payload lines\n%s", got, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
}

func TestFile_Send_Concurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.jsonl")
	it := buildOne(t, Config{Name: "ops", FileConfigs: []FileConfig{{Path: path}}}, DefaultGlobal())
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			note := testNotification()
			note.ID = fmt.Sprintf("id-%d", i)
			if err := it.Send(t.Context(), note); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m webhookMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		seen[m.NotificationID] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct lines, want %d", len(seen), n)
	}
}

func TestFile_Send_Errors(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nosuchdir", "n.jsonl")
		it := buildOne(t, Config{Name: "ops", FileConfigs: []FileConfig{{Path: path}}}, DefaultGlobal())
		err := it.Send(t.Context(), testNotification())
		if err == nil || IsPermanent(err) {
			t.Fatalf("Send = %v; want a retryable error", err)
		}
		if want := "append notification: open " + path + ": no such file or directory"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	})
	t.Run("send_resolved false", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "n.jsonl")
		it := buildOne(t, Config{Name: "ops", FileConfigs: []FileConfig{{Path: path, SendResolved: new(false)}}}, DefaultGlobal())
		n := testNotification()
		n.Alerts, n.Status = n.Alerts[1:], StatusResolved
		if err := it.Send(t.Context(), n); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("a resolved notification was written with send_resolved false")
		}
	})
}
