package receiver

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateAll(t *testing.T) {
	f := func(name string, rs []Config, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			err := ValidateAll(rs)
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if got != want {
				t.Errorf("ValidateAll\n got: %s\nwant: %s", got, want)
			}
		})
	}
	ok := WebhookConfig{URL: "http://hook/"}
	f("null receiver", []Config{{Name: "null"}}, "<nil>")
	f("no name", []Config{{}}, "receivers[0]: name: missing")
	f("duplicate", []Config{{Name: "a"}, {Name: "b"}, {Name: "a"}}, `receivers[2] "a": name: already used by receivers[0]`)
	f("webhook url", []Config{{Name: "a"}, {Name: "b"}, {Name: "ops", WebhookConfigs: []WebhookConfig{ok, {}}}},
		`receivers[2] "ops": webhook_configs[1]: url: missing`)
	f("webhook scheme", []Config{{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: "ftp://x/"}}}},
		`receivers[0] "ops": webhook_configs[0]: url: scheme "ftp" is not http or https`)
	f("max_alerts", []Config{{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: "http://x/", MaxAlerts: -1}}}},
		`receivers[0] "ops": webhook_configs[0]: max_alerts: -1 is negative`)
	f("timeout", []Config{{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: "http://x/", Timeout: -time.Second}}}},
		`receivers[0] "ops": webhook_configs[0]: timeout: -1s is negative`)
	f("auth exclusive", []Config{{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: "http://x/", HTTPConfig: HTTPConfig{
		BasicAuth: BasicAuth{Username: "u"}, Authorization: Authorization{Credentials: "t"}}}}}},
		`receivers[0] "ops": webhook_configs[0]: http_config: basic_auth and authorization are exclusive`)
	f("slack template", []Config{{Name: "ops", SlackConfigs: []SlackConfig{{Text: "{{ range }}"}}}},
		`receivers[0] "ops": slack_configs[0]: text: template: text:1: missing value for range`)
	f("slack api_url", []Config{{Name: "ops", SlackConfigs: []SlackConfig{{APIURL: "hooks.slack.com/x"}}}},
		`receivers[0] "ops": slack_configs[0]: api_url: scheme "" is not http or https`)
	f("email to", []Config{{Name: "ops", EmailConfigs: []EmailConfig{{}}}},
		`receivers[0] "ops": email_configs[0]: to: missing`)
	f("email smarthost", []Config{{Name: "ops", EmailConfigs: []EmailConfig{{To: "a@b.c", Smarthost: "mail"}}}},
		`receivers[0] "ops": email_configs[0]: smarthost: "mail" is not host:port`)
	f("email header", []Config{{Name: "ops", EmailConfigs: []EmailConfig{{To: "a@b.c", Headers: map[string]string{"subject": "a", "Subject": "b"}}}}},
		`receivers[0] "ops": email_configs[0]: headers: "Subject" and "subject" are the same header`)
	f("email reserved header", []Config{{Name: "ops", EmailConfigs: []EmailConfig{{To: "a@b.c", Headers: map[string]string{"content-type": "text/plain"}}}}},
		`receivers[0] "ops": email_configs[0]: headers: Content-Type is set by outpost`)
	f("email tls", []Config{{Name: "ops", EmailConfigs: []EmailConfig{{To: "a@b.c", TLSConfig: TLSConfig{CertFile: "c.pem"}}}}},
		`receivers[0] "ops": email_configs[0]: tls_config: cert_file and key_file go together`)
	f("alertmanager url", []Config{{Name: "ops", AlertmanagerConfigs: []AlertmanagerConfig{{}}}},
		`receivers[0] "ops": alertmanager_configs[0]: url: missing`)
	f("alerta timeout_seconds", []Config{{Name: "ops", AlertaConfigs: []AlertaConfig{{URL: "http://a/api", TimeoutSeconds: new(-1)}}}},
		`receivers[0] "ops": alerta_configs[0]: timeout_seconds: -1 is negative`)
	f("file path", []Config{{Name: "ops", FileConfigs: []FileConfig{{}}}},
		`receivers[0] "ops": file_configs[0]: path: missing`)
	f("all problems joined", []Config{{}, {Name: "x", FileConfigs: []FileConfig{{}}}},
		"receivers[0]: name: missing\nreceivers[1] \"x\": file_configs[0]: path: missing")
}

func TestConfig_Validate(t *testing.T) {
	err := Config{Name: "ops", FileConfigs: []FileConfig{{}}}.Validate()
	if want := `receiver "ops": file_configs[0]: path: missing`; err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
}

func TestGlobal_Validate(t *testing.T) {
	f := func(mod func(*Global), want string) {
		t.Helper()
		g := DefaultGlobal()
		mod(&g)
		err := g.Validate()
		got := "<nil>"
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Validate\n got: %s\nwant: %s", got, want)
		}
	}
	f(func(*Global) {}, "<nil>")
	f(func(g *Global) { g.SMTPSmarthost = "mail.example.org" }, `smtp_smarthost: "mail.example.org" is not host:port`)
	f(func(g *Global) { g.SMTPSmarthost = "mail:smtp" }, `smtp_smarthost: "mail:smtp": port "smtp" is not a number from 1 to 65535`)
	f(func(g *Global) { g.SMTPFrom = "not an address" }, `smtp_from: "not an address" is not an address: mail: no angle-addr`)
	f(func(g *Global) { g.ResolveTimeout = 0 }, "resolve_timeout: 0s is not positive")
	if g := DefaultGlobal(); !g.SMTPRequireTLS || g.ResolveTimeout != 5*time.Minute {
		t.Errorf("DefaultGlobal() = %+v; want smtp_require_tls true, resolve_timeout 5m", g)
	}
}

// TestConfig_Keys pins the configuration keys (the koanf tags) to
// testdata/golden/config_keys.txt: they are Alertmanager's names, so a
// pasted alertmanager.yml keeps loading. Regenerate with -update.
func TestConfig_Keys(t *testing.T) {
	var lines []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			key := f.Tag.Get("koanf")
			if key == "" {
				t.Errorf("%s%s has no koanf tag", prefix, f.Name)
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]():
				walk(prefix+key+".", ft)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(prefix+key+"[].", ft.Elem())
			default:
				lines = append(lines, prefix+key+" "+f.Type.String())
			}
		}
	}
	walk("global.", reflect.TypeFor[Global]())
	walk("receivers[].", reflect.TypeFor[Config]())
	got := strings.Join(lines, "\n") + "\n"
	checkGolden(t, filepath.Join("testdata", "golden", "config_keys.txt"), []byte(got))
}

// checkGolden compares got with the golden file at path, or rewrites the
// file under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test ./alerting/receiver/ -run %s -update to create it)", err, t.Name())
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the output:\n got: %s\nwant: %s\nIf the change is intended, run: go test ./alerting/receiver/ -run %s -update",
			path, got, want, t.Name())
	}
}
