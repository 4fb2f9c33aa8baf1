package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Rule files with YAML errors, unknown fields, bad expressions, bad
// templates and duplicate names: POST /-/reload answers 500 naming the
// file, group, rule and line, and the rules already running keep
// running. A fixed file is picked up by the file watch, and SIGHUP
// reloads too.
func TestAlerting_ReloadBadFiles(t *testing.T) {
	dir := t.TempDir()
	hook := newWebhook(t)
	path := writeRules(t, dir, "demo.yml", demoRules)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: alertingConfig([]string{filepath.Join(dir, "*.yml")}, hook.URL, "")})
	defer s.stop()

	rules := func() string {
		_, body, _ := do(t, "GET", s.base+"/api/v1/rules", "")
		return body
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(rules(), `"health":"ok"`); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Demo not loaded and evaluated: %s", rules())
		}
	}
	for _, c := range []struct{ name, yml, want string }{
		{"yaml", "groups:\n- name: demo\n  rules:\n  - alert: X\n    expr: [\n", path + ":5"},
		{"unknown field", "groups:\n- name: demo\n  rules:\n  - alert: X\n    exprs: up\n", path + `:5:5: group "demo", rule "X": unknown field "exprs"`},
		{"bad expression", "groups:\n- name: demo\n  rules:\n  - alert: X\n    expr: sum(up\n", path + `:5:5: group "demo", rule "X": expr: `},
		{"bad template", "groups:\n- name: demo\n  rules:\n  - alert: X\n    expr: up\n    annotations:\n      summary: \"{{ .Foo \"\n", path + `:7:7: group "demo", rule "X": `},
		{"duplicate group", "groups:\n- name: demo\n  rules:\n  - alert: X\n    expr: up\n- name: demo\n  rules:\n  - alert: Y\n    expr: up\n", path + `:6:`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(c.yml), 0o644); err != nil {
				t.Fatal(err)
			}
			code, body, _ := do(t, "POST", s.base+"/-/reload", "")
			if code != http.StatusInternalServerError || !strings.Contains(body, c.want) {
				t.Fatalf("reload: %d %q, want 500 containing %q", code, body, c.want)
			}
			if r := rules(); !strings.Contains(r, `"name":"Demo"`) || !strings.Contains(r, `"health":"ok"`) {
				t.Fatalf("the running rules were dropped: %s", r)
			}
			_, status, _ := do(t, "GET", s.base+"/api/v1/alerting/status", "")
			if !strings.Contains(status, `"loaded":true`) || !strings.Contains(status, "demo.yml") {
				t.Fatalf("status: %s", status)
			}
		})
	}

	// A fixed file: the watch reloads it by itself within seconds.
	writeRules(t, dir, "demo.yml", strings.Replace(demoRules, "alert: Demo", "alert: Demo2", 1))
	waitRules := func(name string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(rules(), `"name":"`+name+`"`) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not loaded: %s", name, rules())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitRules("Demo2")
	// SIGHUP: a new file, reloaded on the signal.
	writeRules(t, dir, "more.yml", strings.Replace(demoRules, "alert: Demo", "alert: Demo3", 1))
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitRules("Demo3")
	if code, body, _ := do(t, "POST", s.base+"/-/reload", ""); code != 200 {
		t.Fatalf("reload of good files: %d %s", code, body)
	}
}
