package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"outpost/ui"
)

// writeConfig writes a YAML config file into a temp dir and returns its path.
func writeConfig(t *testing.T, yml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outpost.yml")
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// load parses argv and loads the configuration with environ.
func load(t *testing.T, argv []string, environ []string) (config, error) {
	t.Helper()
	a, err := parseArgs(argv, new(bytes.Buffer))
	if err != nil {
		t.Fatalf("parseArgs(%q): %v", argv, err)
	}
	return loadConfig(a, environ)
}

func TestLoadConfig_DefaultsRoundTrip(t *testing.T) {
	got, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := defaultConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults through koanf:\n got %+v\nwant %+v", got, want)
	}
	if got.Storage.Retention != 30*24*time.Hour || got.HTTP.Addr != ":8086" || got.Graphite.Addr != ":2003" ||
		got.Collectd.Addr != ":25826" || !got.Host.Enabled || got.HTTP.MaxBodyBytes != 64<<20 {
		t.Fatalf("defaults differ from DESIGN §1: %+v", got)
	}
}

func TestLoadConfig_Precedence(t *testing.T) {
	file := writeConfig(t, `
storage:
  path: /from/file
  retention: 40d
  max_series: 500
http:
  addr: 127.0.0.1:1001
  max_body_bytes: 1MiB
log:
  level: warn
`)
	t.Setenv("OUTPOST_STORAGE_PATH", "/from/env")
	t.Setenv("OUTPOST_HTTP_ADDR", "127.0.0.1:1002")
	t.Setenv("OUTPOST_STORAGE_MAX_SERIES", "600")
	got, err := load(t, []string{"-config", file, "--storage.path=/from/flag", "--log.format", "json"}, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	f := func(key string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	f("storage.path (file < env < flag)", got.Storage.Path, "/from/flag")
	f("http.addr (file < env)", got.HTTP.Addr, "127.0.0.1:1002")
	f("storage.max_series (file < env)", got.Storage.MaxSeries, 600)
	f("storage.retention (file)", got.Storage.Retention, 40*24*time.Hour)
	f("http.max_body_bytes (file)", got.HTTP.MaxBodyBytes, int64(1<<20))
	f("log.level (file)", got.Log.Level, "warn")
	f("log.format (flag)", got.Log.Format, "json")
	f("storage.epoch_grace (default)", got.Storage.EpochGrace, 10*time.Minute)
	f("graphite.addr (default)", got.Graphite.Addr, ":2003")
}

// TestLoadConfig_Strings checks that durations and sizes decode from
// strings in every layer.
func TestLoadConfig_Strings(t *testing.T) {
	file := writeConfig(t, `
storage:
  retention: 30d
  max_future: 30s
  epoch_grace: 0
http:
  max_body_bytes: 64MiB
  write_timeout: 1w
collectd:
  read_buffer: 4MiB
  typesdb: [/a, /b]
`)
	t.Setenv("OUTPOST_HTTP_MAX_BODY_BYTES", "32MB")
	t.Setenv("OUTPOST_STORAGE_RETENTION", "30d12h")
	t.Setenv("OUTPOST_GRAPHITE_TAGS", "dc=a, rack=b")
	got, err := load(t, []string{"-config", file, "--storage.head_max_bytes=1.5GiB",
		"--http.idle_timeout=90s", "--host.enabled=false"}, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	f := func(key string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	f("storage.retention", got.Storage.Retention, 30*24*time.Hour+12*time.Hour)
	f("storage.max_future", got.Storage.MaxFuture, 30*time.Second)
	f("storage.epoch_grace", got.Storage.EpochGrace, time.Duration(0))
	f("storage.head_max_bytes", got.Storage.HeadMaxBytes, int64(3<<29))
	f("http.max_body_bytes", got.HTTP.MaxBodyBytes, int64(32_000_000))
	f("http.write_timeout", got.HTTP.WriteTimeout, 7*24*time.Hour)
	f("http.idle_timeout", got.HTTP.IdleTimeout, 90*time.Second)
	f("collectd.read_buffer", got.Collectd.ReadBuffer, 4<<20)
	f("collectd.typesdb", got.Collectd.TypesDB, []string{"/a", "/b"})
	f("graphite.tags", got.Graphite.Tags, []string{"dc=a", "rack=b"})
	f("host.enabled", got.Host.Enabled, false)
}

func TestLoadConfig_Tokens(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		file := writeConfig(t, `
auth:
  tokens:
    - token: s3cret-w
      role: write
    - token: s3cret-a
      role: admin
`)
		got, err := load(t, []string{"-config", file}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []ui.Token{{Token: "s3cret-w", Role: ui.RoleWrite}, {Token: "s3cret-a", Role: ui.RoleAdmin}}
		if !reflect.DeepEqual(got.Auth.Tokens, want) {
			t.Fatalf("auth.tokens = %v, want %v", got.Auth.Tokens, want)
		}
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv("OUTPOST_AUTH_TOKENS", "s3cret-r:read, s3cret-a:admin")
		got, err := load(t, nil, os.Environ())
		if err != nil {
			t.Fatal(err)
		}
		want := []ui.Token{{Token: "s3cret-r", Role: ui.RoleRead}, {Token: "s3cret-a", Role: ui.RoleAdmin}}
		if !reflect.DeepEqual(got.Auth.Tokens, want) {
			t.Fatalf("auth.tokens = %v, want %v", got.Auth.Tokens, want)
		}
	})
	t.Run("env_bad_item_hides_token", func(t *testing.T) {
		t.Setenv("OUTPOST_AUTH_TOKENS", "s3cret-r:read,s3cret-nocolon")
		_, err := load(t, nil, os.Environ())
		if err == nil || err.Error() != "auth.tokens: item 2 is not TOKEN:ROLE" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestLoadConfig_NullKeepsDefault(t *testing.T) {
	file := writeConfig(t, "graphite:\nstorage:\n  path:\n  retention: 31d\ncollectd:\n  addr: \"\"\n")
	got, err := load(t, []string{"-config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Graphite, defaultConfig().Graphite) {
		t.Errorf("graphite (null section) = %+v, want the defaults", got.Graphite)
	}
	if got.Storage.Path != "./outpost-data" || got.Storage.Retention != 31*24*time.Hour {
		t.Errorf("storage = %+v", got.Storage)
	}
	if got.Collectd.Addr != "" {
		t.Errorf(`collectd.addr = %q, want "" (disabled)`, got.Collectd.Addr)
	}
}

// TestLoadConfig_Errors checks that each bad input gives one message naming
// the key and the bad value.
func TestLoadConfig_Errors(t *testing.T) {
	f := func(name, yml string, env map[string]string, argv []string, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			file := ""
			if yml != "" {
				file = writeConfig(t, yml)
				argv = append([]string{"-config", file}, argv...)
			}
			_, err := load(t, argv, os.Environ())
			if err == nil {
				t.Fatalf("no error, want %q", want)
			}
			if want = strings.ReplaceAll(want, "FILE", file); err.Error() != want {
				t.Fatalf("error\n got %q\nwant %q", err, want)
			}
		})
	}
	// Values that do not decode.
	f("duration", "storage:\n  retention: abc\n", nil, nil, `storage.retention: "abc" is not a duration`)
	f("duration_bare_number", "storage:\n  retention: 30\n", nil, nil, `storage.retention: 30 is not a duration: give a unit, such as 30s`)
	f("duration_env", "", map[string]string{"OUTPOST_STORAGE_RETENTION": "30 days"}, nil,
		`storage.retention: "30 days" is not a duration`)
	f("duration_flag", "", nil, []string{"--http.read_timeout=soon"}, `http.read_timeout: "soon" is not a duration`)
	f("size", "http:\n  max_body_bytes: 12XB\n", nil, nil,
		`http.max_body_bytes: "12XB" is not an integer or a size such as 64MiB`)
	f("int", "", map[string]string{"OUTPOST_STORAGE_MAX_SERIES": "lots"}, nil,
		`storage.max_series: "lots" is not an integer or a size such as 64MiB`)
	f("bool", "", nil, []string{"--host.enabled=maybe"}, `host.enabled: "maybe" is not a boolean (true or false)`)
	f("two_bad", "storage:\n  retention: abc\n  max_future: xyz\n", nil, nil,
		`storage.retention: "abc" is not a duration (and 1 more)`)
	f("section_not_a_map", "storage: /var/lib/outpost\n", nil, nil,
		`storage: expected a map or struct, got "string"`)

	// Keys that do not exist.
	f("unknown_key_file", "storage:\n  retnetion: 30d\n", nil, nil, `unknown key "storage.retnetion" in FILE`)
	f("unknown_section_file", "storgae:\n  path: x\n", nil, nil, `unknown key "storgae" in FILE`)
	f("unknown_key_case", "Storage:\n  path: x\n", nil, nil, `unknown key "Storage" in FILE`)
	f("unknown_token_field", "auth:\n  tokens:\n    - tokn: abc\n      role: read\n", nil, nil,
		`unknown key "auth.tokens[0].tokn" in FILE`)
	f("unknown_key_env", "", map[string]string{"OUTPOST_STORAGE_RETNETION": "30d"}, nil,
		`unknown key "storage.retnetion" from environment variable OUTPOST_STORAGE_RETNETION`)
	f("unknown_section_env", "", map[string]string{"OUTPOST_VERBOSE": "1"}, nil,
		`unknown key "verbose" from environment variable OUTPOST_VERBOSE`)

	// Values that decode but do not validate.
	f("validate_log", "log:\n  level: loud\n", nil, nil, `log.level: "loud" is not debug, info, warn or error`)
	f("validate_log_format", "", nil, []string{"--log.format=xml"}, `log.format: "xml" is not text or json`)
	f("validate_storage", "storage:\n  retention: 1h\n", nil, nil, `storage.retention: 1h0m0s is shorter than one day`)
	f("validate_http", "http:\n  addr: 8086\n", nil, nil, `http.addr: "8086" is not host:port`)
	f("validate_role", "auth:\n  tokens:\n    - token: abc\n      role: root\n", nil, nil,
		`auth.tokens[0].role: "root" is not read, write or admin`)
	f("validate_graphite", "graphite:\n  batch_size: 0\n", nil, nil, `graphite.batch_size: 0 is outside 1 to 1000000`)
	f("validate_collectd", "collectd:\n  security_level: high\n", nil, nil,
		`collectd.security_level: "high" is not none, sign or encrypt`)

	// Files that cannot be read.
	t.Run("yaml_syntax", func(t *testing.T) {
		p := writeConfig(t, "storage:\n  path: [unclosed\n")
		_, err := load(t, []string{"-config", p}, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "parse "+p+": yaml: line ") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("err = %v, want one line naming the file and the YAML line", err)
		}
	})
	t.Run("missing_file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "nope.yml")
		_, err := load(t, []string{"-config", p}, nil)
		if err == nil || err.Error() != "read config file: open "+p+": no such file or directory" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestParseArgs(t *testing.T) {
	t.Run("help", func(t *testing.T) {
		var out bytes.Buffer
		_, err := parseArgs([]string{"-h"}, &out)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("err = %v, want flag.ErrHelp", err)
		}
		for _, want := range []string{"-config FILE", "-version", "--storage.path", "default ./outpost-data",
			"--storage.retention", "default 30d", "--http.max_body_bytes", "default 64MiB", "OUTPOST_STORAGE_PATH"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("usage lacks %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		a, err := parseArgs([]string{"-version"}, new(bytes.Buffer))
		if err != nil || !a.version {
			t.Fatalf("parseArgs(-version) = %+v, %v", a, err)
		}
	})
	t.Run("only_set_flags", func(t *testing.T) {
		a, err := parseArgs([]string{"--http.addr=:9", "-host.enabled", "--storage.path", "/d"}, new(bytes.Buffer))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"http.addr": ":9", "host.enabled": "true", "storage.path": "/d"}
		if !reflect.DeepEqual(a.set, want) {
			t.Fatalf("set = %v, want %v", a.set, want)
		}
	})
	bad := func(argv []string, want string) {
		t.Helper()
		_, err := parseArgs(argv, new(bytes.Buffer))
		if err == nil || err.Error() != want {
			t.Fatalf("parseArgs(%q) = %v, want %q", argv, err, want)
		}
	}
	bad([]string{"--storage.pth=x"}, "flag provided but not defined: -storage.pth (see outpost -h)")
	bad([]string{"serve"}, `unexpected argument "serve" (see outpost -h)`)
	bad([]string{"--http.addr"}, "flag needs an argument: -http.addr (see outpost -h)")
}

// TestLoadConfig_Samples loads the sample files of testdata/config: full.yml
// must be exactly the defaults, the others must load, the bad-* ones must
// fail naming the key.
func TestLoadConfig_Samples(t *testing.T) {
	dir := filepath.Join("testdata", "config")
	t.Run("full_is_defaults", func(t *testing.T) {
		got, err := load(t, []string{"-config", filepath.Join(dir, "full.yml")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := defaultConfig(); !reflect.DeepEqual(got, want) {
			t.Fatalf("testdata/config/full.yml no longer matches the defaults; update it\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("bench", func(t *testing.T) {
		got, err := load(t, []string{"-config", filepath.Join(dir, "bench.yml")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Graphite.Addr != "" || got.Collectd.Addr != "" || got.Host.Enabled || got.Storage.Retention != 3650*24*time.Hour {
			t.Fatalf("bench.yml = %+v", got)
		}
	})
	t.Run("tokens", func(t *testing.T) {
		got, err := load(t, []string{"-config", filepath.Join(dir, "tokens.yml")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Auth.Tokens) != 3 || got.Auth.Tokens[2].Role != ui.RoleAdmin || got.HTTP.MaxBodyBytes != 32_000_000 {
			t.Fatalf("tokens.yml = %+v", got)
		}
	})
	t.Run("alerting", func(t *testing.T) {
		got, err := load(t, []string{"-config", filepath.Join(dir, "alerting.yml")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := got.Alerting
		r := a.Route
		switch {
		case a.EvaluationInterval != 15*time.Second || a.ExternalLabels["site"] != "bastion-1" || !a.Defaults:
			t.Fatalf("alerting = %+v", a)
		case r.Receiver != "ops" || len(r.Routes) != 2 || r.Routes[0].Matchers[0] != `severity="critical"` || !r.Routes[0].Continue ||
			r.Routes[1].MatchRE["service"] != "^(db|cache)$" || r.Routes[1].GroupBy[0] != "..." || r.RepeatInterval != 4*time.Hour:
			t.Fatalf("route = %+v", r)
		case len(a.Receivers) != 3 || a.Receivers[0].EmailConfigs[0].To != "ops@example.org" ||
			a.Receivers[1].WebhookConfigs[0].MaxAlerts != 10 || a.Receivers[2].AlertaConfigs[0].APIKey != "k" ||
			a.Receivers[2].FileConfigs[0].Path != "/var/log/outpost/notifications.jsonl":
			t.Fatalf("receivers = %+v", a.Receivers)
		case len(a.InhibitRules) != 1 || a.InhibitRules[0].Equal[1] != "host":
			t.Fatalf("inhibit_rules = %+v", a.InhibitRules)
		case a.Global.SMTPSmarthost != "mail.example.org:587" || !a.Global.SMTPRequireTLS:
			t.Fatalf("global = %+v", a.Global)
		}
	})
	for file, want := range map[string]string{
		"bad-unknown-key.yml":        `unknown key "storage.retension" in ` + filepath.Join(dir, "bad-unknown-key.yml"),
		"bad-duration.yml":           `storage.retention: "a month" is not a duration`,
		"bad-alerting-receiver.yml":  `alerting.route.receiver: unknown receiver "nobody"`,
		"bad-alerting-pagerduty.yml": `unknown key "alerting.receivers[1].pagerduty_configs" in ` + filepath.Join(dir, "bad-alerting-pagerduty.yml"),
		"bad-alerting-matcher.yml":   `alerting.route.routes[0].matchers[0]: "sev=~\"(\"": bad regexp "(": error parsing regexp: missing closing ): ` + "`(`",
		"bad-alerting-webhook.yml":   `alerting.receivers[0] "default": webhook_configs[0]: url: missing`,
	} {
		t.Run(file, func(t *testing.T) {
			_, err := load(t, []string{"-config", filepath.Join(dir, file)}, nil)
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %q", err, want)
			}
		})
	}
}
