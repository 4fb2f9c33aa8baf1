package main

import (
	"fmt"

	"outpost/alerting"
	"outpost/collectors/collectd"
	evingest "outpost/collectors/events"
	"outpost/collectors/graphite"
	"outpost/collectors/host"
	"outpost/collectors/influx"
	"outpost/collectors/promrw"
	"outpost/query"
	"outpost/tsdb"
	"outpost/ui"
	"outpost/ui/pages"
)

// config is outpost's whole configuration. Each section is the Config of the
// package it configures; its koanf tag is the section's key, so the key of
// Storage.Retention is storage.retention in the YAML file,
// OUTPOST_STORAGE_RETENTION in the environment and --storage.retention on
// the command line.
type config struct {
	Storage  tsdb.Config          `koanf:"storage"`
	HTTP     ui.ServerConfig      `koanf:"http"`
	Auth     ui.AuthConfig        `koanf:"auth"`
	Log      logConfig            `koanf:"log"`
	Influx   influx.Config        `koanf:"influx"`
	Graphite graphite.Config      `koanf:"graphite"`
	Collectd collectd.Config      `koanf:"collectd"`
	Host     host.Config          `koanf:"host"`
	Query    query.Config         `koanf:"query"`
	Alerting alerting.Config      `koanf:"alerting"`
	UI       pages.Config         `koanf:"ui"`
	Promrw   promrw.Config        `koanf:"promrw"`
	Forward  promrw.ForwardConfig `koanf:"forward"`
	Events   evingest.Config      `koanf:"events"`
}

// defaultConfig returns the embedded defaults: every package's DefaultConfig.
func defaultConfig() config {
	return config{
		Storage:  tsdb.DefaultConfig(),
		HTTP:     ui.DefaultServerConfig(),
		Auth:     ui.DefaultAuthConfig(),
		Log:      logConfig{Level: "info", Format: "text"},
		Influx:   influx.DefaultConfig(),
		Graphite: graphite.DefaultConfig(),
		Collectd: collectd.DefaultConfig(),
		Query:    query.DefaultConfig(),
		Alerting: alerting.DefaultConfig(),
		UI:       pages.DefaultConfig(),
		Promrw:   promrw.DefaultConfig(),
		Forward:  promrw.DefaultForwardConfig(),
		Host:     host.DefaultConfig(),
		Events:   evingest.DefaultConfig(),
	}
}

// Validate returns the first section's error; each names the key and the
// bad value.
func (c config) Validate() error {
	for _, s := range []interface{ Validate() error }{
		c.Storage, c.HTTP, c.Auth, c.Log, c.Influx, c.Graphite, c.Collectd, c.Host, c.Query, c.Alerting, c.UI, c.Promrw, c.Events,
	} {
		if err := s.Validate(); err != nil {
			return err
		}
	}
	return c.Forward.Validate(query.ParseSelectors)
}

// logConfig is the logging section (key "log").
type logConfig struct {
	// Level is debug, info, warn or error.
	Level string `koanf:"level"`
	// Format is text (logfmt-like key=value) or json.
	Format string `koanf:"format"`
}

// Validate names the first key with a bad value.
func (c logConfig) Validate() error {
	switch c.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Level)
	}
	switch c.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Format)
	}
	return nil
}
