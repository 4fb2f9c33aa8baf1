package main

import (
	"fmt"

	"outpost/collectors/collectd"
	"outpost/collectors/graphite"
	"outpost/collectors/influx"
	"outpost/tsdb"
	"outpost/ui"
)

// config is outpost's whole configuration. Each section is the Config of the
// package it configures; its koanf tag is the section's key, so the key of
// Storage.Retention is storage.retention in the YAML file,
// OUTPOST_STORAGE_RETENTION in the environment and --storage.retention on
// the command line.
type config struct {
	Storage  tsdb.Config     `koanf:"storage"`
	HTTP     ui.ServerConfig `koanf:"http"`
	Auth     ui.AuthConfig   `koanf:"auth"`
	Log      logConfig       `koanf:"log"`
	Influx   influx.Config   `koanf:"influx"`
	Graphite graphite.Config `koanf:"graphite"`
	Collectd collectd.Config `koanf:"collectd"`
	Host     hostConfig      `koanf:"host"`
	// The query and alerting sections join here with their packages.
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
		Host:     hostConfig{Enabled: true},
	}
}

// Validate returns the first section's error; each names the key and the
// bad value.
func (c config) Validate() error {
	for _, s := range []interface{ Validate() error }{
		c.Storage, c.HTTP, c.Auth, c.Log, c.Influx, c.Graphite, c.Collectd, c.Host,
	} {
		if err := s.Validate(); err != nil {
			return err
		}
	}
	return nil
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

// hostConfig is the built-in host collector's section (key "host"). The
// collector itself is not built yet; the section exists so that
// configurations written for it (such as the benchmark's) load.
type hostConfig struct {
	// Enabled turns the collector of this machine's and outpost's own
	// metrics on.
	Enabled bool `koanf:"enabled"`
}

// Validate has nothing to check yet.
func (c hostConfig) Validate() error { return nil }
