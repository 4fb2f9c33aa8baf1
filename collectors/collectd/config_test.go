package collectd

import (
	"strings"
	"testing"
	"time"
)

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	f := func(name string, mod func(*Config), want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			mod(&c)
			err := c.Validate()
			if want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Validate = %v, want %q", err, want)
			}
		})
	}
	f("disabled", func(c *Config) { c.Addr = "" }, "")
	f("unknown level", func(c *Config) { c.SecurityLevel = "foo" },
		`collectd.security_level: "foo" is not none, sign or encrypt`)
	f("sign without auth file", func(c *Config) { c.SecurityLevel = "sign" }, "collectd.auth_file: required")
	f("encrypt without auth file", func(c *Config) { c.SecurityLevel = "encrypt" }, "collectd.auth_file: required")
	f("encrypt with auth file", func(c *Config) { c.SecurityLevel = "Encrypt"; c.AuthFile = "/etc/collectd/auth" }, "")
	f("negative read buffer", func(c *Config) { c.ReadBuffer = -1 }, "collectd.read_buffer")
	f("zero batch", func(c *Config) { c.BatchSize = 0 }, "collectd.batch_size")
	f("zero flush interval", func(c *Config) { c.FlushInterval = 0 }, "collectd.flush_interval")
	f("zero queue", func(c *Config) { c.QueueSize = 0 }, "collectd.queue_size")
	f("zero workers", func(c *Config) { c.Workers = 0 }, "collectd.workers")
	f("empty typesdb path", func(c *Config) { c.TypesDB = []string{"a", ""} }, "collectd.typesdb[1]")
	f("huge batch", func(c *Config) { c.BatchSize = maxBatchSize + 1 }, "collectd.batch_size")
	f("too many workers", func(c *Config) { c.Workers = maxWorkers + 1 }, "collectd.workers")
	f("no room for the largest packet", func(c *Config) { c.MaxInflightBytes = maxDatagram - 1 }, "collectd.max_inflight_bytes")
	f("room for one largest packet", func(c *Config) { c.MaxInflightBytes = maxDatagram }, "")
	f("over 1 TiB", func(c *Config) { c.MaxInflightBytes = 1<<40 + 1 }, "collectd.max_inflight_bytes")
	if c := DefaultConfig(); c.Addr != ":25826" || c.SecurityLevel != "none" || c.FlushInterval != time.Second ||
		c.MaxInflightBytes != 8<<20 {
		t.Errorf("DefaultConfig = %+v", c)
	}
}
