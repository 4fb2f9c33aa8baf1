package events

import "testing"

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	f := func(change func(*Config), want string) {
		t.Helper()
		c := DefaultConfig()
		change(&c)
		err := c.Validate()
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	}
	f(func(c *Config) { c.MaxBodyBytes = 0 }, "events.max_body_bytes: 0 is below 1")
	f(func(c *Config) { c.MaxEventBytes = 1 }, "events.max_event_bytes: 1 is below 2")
	f(func(c *Config) { c.MaxDepth = 0 }, "events.max_depth: 0 is outside 1 to 1000")
	f(func(c *Config) { c.SyslogMaxLineBytes = 100 }, "events.syslog_max_line_bytes: 100 is outside 480 to 16777216")
	f(func(c *Config) { c.SyslogMaxConnections = 0 }, "events.syslog_max_connections: 0 is below 1")
	f(func(c *Config) { c.TimeFields = []string{"a..b"} }, `events.time_fields: "a..b" is not a dotted field path`)
	f(func(c *Config) { c.IndexFields = []string{""} }, `events.index_fields: "" is not a dotted field path`)
}
