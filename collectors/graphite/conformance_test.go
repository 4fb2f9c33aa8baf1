package graphite

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"outpost/tsdb"
)

// influxCases is the shape of influxdb1x-graphite-templates.json.
type influxCases struct {
	TemplateApply []struct {
		ID, Template, Separator, Input, Measurement, Field, Error string
		Tags                                                      map[string]string
	} `json:"template_apply"`
	ParserApplyTemplate []struct {
		ID, Separator, Input, Measurement, Field, Error string
		Templates                                       []string
		Tags                                            map[string]string
		TagsSubset                                      map[string]string `json:"tags_subset"`
	} `json:"parser_apply_template"`
	ParseLine []struct {
		ID, Separator, Input, Error string
		ErrorType                   string `json:"error_type"`
		Templates                   []string
		DefaultTags                 map[string]string `json:"default_tags"`
		Expect                      *influxPoint
	} `json:"parse_line"`
	InvalidConfig []struct {
		Templates, Tags []string
		Reason          string
	} `json:"invalid_config"`
	ReadmeExamples []json.RawMessage `json:"readme_examples"`
}

// influxPoint is one point InfluxDB 1.x expects.
type influxPoint struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]float64
	TimeUnix    int64 `json:"time_unix"`
}

// loadInfluxCases reads the transcribed InfluxDB 1.x test cases.
func loadInfluxCases(t *testing.T) influxCases {
	t.Helper()
	b, err := os.ReadFile(conformance(t, "graphite/influxdb1x-graphite-templates.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c influxCases
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return c
}

// tally counts passed cases per group, for the N/N report.
type tally map[string][2]int

func (ta tally) add(group string, ok bool) {
	c := ta[group]
	c[1]++
	if ok {
		c[0]++
	}
	ta[group] = c
}

// mapTags turns a tag map into "k=v" config entries.
func mapTags(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// labelMap returns the labels of ls but the metric name.
func labelMap(ls tsdb.Labels) map[string]string {
	m := map[string]string{}
	for _, l := range ls {
		if l.Name != tsdb.MetricName {
			m[l.Name] = l.Value
		}
	}
	return m
}

// wantName is the metric name outpost derives from InfluxDB's measurement
// and field (DESIGN §3: measurement, or measurement_field; no "_value").
func wantName(measurement, field string) string {
	if field == "" || field == "value" {
		return measurement
	}
	return measurement + "_" + field
}

func TestTemplates_InfluxDB1xConformance(t *testing.T) {
	c := loadInfluxCases(t)
	ta := tally{}
	t.Run("template_apply", func(t *testing.T) {
		for _, tc := range c.TemplateApply {
			t.Run(tc.ID, func(t *testing.T) {
				ok := checkMapping(t, Config{Templates: []string{tc.Template}, Separator: tc.Separator},
					tc.Input, tc.Error, tc.Measurement, tc.Field, tc.Tags, nil)
				ta.add("template_apply", ok)
			})
		}
	})
	t.Run("parser_apply_template", func(t *testing.T) {
		for _, tc := range c.ParserApplyTemplate {
			t.Run(tc.ID, func(t *testing.T) {
				ok := checkMapping(t, Config{Templates: tc.Templates, Separator: tc.Separator},
					tc.Input, tc.Error, tc.Measurement, tc.Field, tc.Tags, tc.TagsSubset)
				ta.add("parser_apply_template", ok)
			})
		}
	})
	t.Run("parse_line", func(t *testing.T) {
		for _, tc := range c.ParseLine {
			t.Run(tc.ID, func(t *testing.T) {
				cfg := Config{Templates: tc.Templates, Separator: tc.Separator, Tags: mapTags(tc.DefaultTags)}
				ta.add("parse_line", checkLine(t, cfg, tc.Input, tc.Error != "" || tc.ErrorType != "", tc.Expect))
			})
		}
	})
	t.Run("invalid_config", func(t *testing.T) {
		for i, tc := range c.InvalidConfig {
			t.Run(tc.Reason, func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Templates, cfg.Tags = tc.Templates, tc.Tags
				err := cfg.Validate()
				if err == nil {
					t.Errorf("case %d %q %q: Validate accepted it", i, tc.Templates, tc.Tags)
				} else if !strings.HasPrefix(err.Error(), "graphite.templates[") && !strings.HasPrefix(err.Error(), "graphite.tags[") {
					t.Errorf("error %q does not name the key", err)
				}
				ta.add("invalid_config", err != nil)
			})
		}
	})
	t.Run("readme_examples", func(t *testing.T) {
		for i, raw := range c.ReadmeExamples {
			checkReadme(t, i, raw, ta)
		}
	})
	total, passed := 0, 0
	for _, g := range slices.Sorted(maps.Keys(ta)) {
		t.Logf("%-22s %d/%d", g, ta[g][0], ta[g][1])
		passed, total = passed+ta[g][0], total+ta[g][1]
	}
	t.Logf("InfluxDB 1.x graphite template cases: %d/%d pass", passed, total)
	if total < 60 {
		t.Errorf("only %d cases ran; the file holds 64", total)
	}
}

// checkMapping maps one path and compares measurement, field and tags.
func checkMapping(t *testing.T, cfg Config, path, wantErr, meas, field string, tags, subset map[string]string) bool {
	t.Helper()
	p, err := NewParser(cfg)
	if wantErr != "" {
		if err == nil {
			t.Errorf("want error %q, templates compiled", wantErr)
		}
		return err != nil
	}
	if err != nil {
		t.Errorf("NewParser: %v", err)
		return false
	}
	res, err := p.resolve(path, 1, nil)
	if err != nil {
		t.Errorf("resolve(%q): %v", path, err)
		return false
	}
	got := res.applied.measurement
	if got == "" {
		got = res.metricPath
	}
	ok := got == meas && res.applied.field == field && res.name == wantName(meas, field)
	gotTags := labelMap(res.labels)
	if tags != nil && !maps.Equal(gotTags, tags) {
		ok = false
	}
	for k, v := range subset {
		ok = ok && gotTags[k] == v
	}
	if !ok {
		t.Errorf("%q: got measurement %q field %q name %q tags %v; want %q %q tags %v %v",
			path, got, res.applied.field, res.name, gotTags, meas, field, tags, subset)
	}
	return ok
}

// checkLine parses a whole line and compares it with InfluxDB's point.
func checkLine(t *testing.T, cfg Config, line string, wantErr bool, want *influxPoint) bool {
	t.Helper()
	if cfg.Separator == "" {
		cfg.Separator = DefaultSeparator
	}
	p, err := NewParser(cfg)
	if err != nil {
		if !wantErr {
			t.Errorf("NewParser: %v", err)
		}
		return wantErr
	}
	pts, err := p.ParseLine(nil, []byte(line), testNow)
	if wantErr {
		if err == nil {
			t.Errorf("%q: want an error, got %v", line, pts)
		}
		return err != nil
	}
	if err != nil || len(pts) != 1 || len(want.Fields) != 1 {
		t.Errorf("%q: got %v, %v", line, pts, err)
		return false
	}
	var field string
	var v float64
	for field, v = range want.Fields {
	}
	got := pts[0]
	ok := got.Labels.Get(tsdb.MetricName) == wantName(want.Measurement, field) &&
		maps.Equal(labelMap(got.Labels), want.Tags) && got.V == v && got.T == want.TimeUnix*1000
	if !ok {
		t.Errorf("%q: got %v; want %s %v %v at %d", line, got, wantName(want.Measurement, field), want.Tags, v, want.TimeUnix)
	}
	return ok
}

// readmeCase is one entry of readme_examples.
type readmeCase struct {
	Template, Separator, Input, Measurement string
	Inputs                                  []string
	Tags                                    map[string]string
	Expect                                  json.RawMessage
	FiltersMatchExamples                    map[string]string `json:"filters_match_examples"`
}

// checkReadme runs one README example.
func checkReadme(t *testing.T, i int, raw json.RawMessage, ta tally) {
	var rc readmeCase
	if err := json.Unmarshal(raw, &rc); err != nil {
		t.Fatalf("readme_examples[%d]: %v", i, err)
	}
	cfg := Config{Templates: []string{rc.Template}, Separator: rc.Separator}
	switch {
	case rc.FiltersMatchExamples != nil:
		for _, f := range slices.Sorted(maps.Keys(rc.FiltersMatchExamples)) {
			path := rc.FiltersMatchExamples[f]
			if strings.Contains(path, " ") {
				continue // prose, not a path
			}
			ok, why := filterMatch(strings.Split(f, "."), strings.Split(path, "."))
			if !ok {
				t.Errorf("filter %q should match %q: %s", f, path, why)
			}
			ta.add("readme_examples", ok)
		}
	case rc.Input != "":
		t.Run(rc.Template, func(t *testing.T) {
			ta.add("readme_examples", checkMapping(t, cfg, rc.Input, "", rc.Measurement, "", rc.Tags, nil))
		})
	case len(rc.Inputs) > 0:
		t.Run(rc.Template, func(t *testing.T) {
			ta.add("readme_examples", checkReadmeInputs(t, cfg, rc))
		})
	}
}

// checkReadmeInputs runs a README example with several input lines: either
// one expected point whose fields come from the lines, or one per line.
func checkReadmeInputs(t *testing.T, cfg Config, rc readmeCase) bool {
	var one influxPoint
	var many []influxPoint
	if err := json.Unmarshal(rc.Expect, &many); err != nil {
		if err := json.Unmarshal(rc.Expect, &one); err != nil {
			t.Fatalf("expect: %v", err)
		}
	}
	ok := true
	for i, in := range rc.Inputs {
		if many != nil {
			ok = checkMapping(t, cfg, in, "", many[i].Measurement, "", many[i].Tags, nil) && ok
			continue
		}
		path, _, _ := strings.Cut(in, " ")
		field := path[strings.LastIndexByte(path, '.')+1:]
		ok = checkLine(t, cfg, in, false, &influxPoint{Measurement: one.Measurement, Tags: one.Tags,
			Fields: map[string]float64{field: one.Fields[field]}, TimeUnix: one.TimeUnix}) && ok
	}
	return ok
}

func TestConfig_Validate(t *testing.T) {
	f := func(mod func(*Config), key string) {
		t.Helper()
		cfg := DefaultConfig()
		mod(&cfg)
		err := cfg.Validate()
		if key == "" {
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			return
		}
		if err == nil || !strings.HasPrefix(err.Error(), key+":") {
			t.Fatalf("Validate = %v, want an error naming %s", err, key)
		}
	}
	f(func(c *Config) {}, "")
	f(func(c *Config) { c.Addr = "" }, "")
	f(func(c *Config) { c.Templates = []string{"servers.* .host.measurement*", "measurement*"} }, "")
	f(func(c *Config) { c.Templates = []string{"ok.* measurement", "bad measurement b c"} }, "graphite.templates[1]")
	f(func(c *Config) { c.Templates = []string{"a.* measurement", "b.* measurement", "a.b.c"} }, "graphite.templates[2]")
	f(func(c *Config) { c.Templates = []string{"x measurement", "x measurement*"} }, "graphite.templates[1]")
	f(func(c *Config) { c.Templates = []string{"measurement.__name__"} }, "graphite.templates[0]")
	f(func(c *Config) { c.Templates = []string{"a measurement.field.field"} }, "graphite.templates[0]")
	f(func(c *Config) { c.Templates = []string{"measurement k=v extra"} }, "graphite.templates[0]")
	f(func(c *Config) { c.Tags = []string{"a=b", "__name__=x"} }, "graphite.tags[1]")
	f(func(c *Config) { c.MaxLineBytes = 10 }, "graphite.max_line_bytes")
	f(func(c *Config) { c.IdleTimeout = 0 }, "graphite.idle_timeout")
	f(func(c *Config) { c.MaxConnections = 0 }, "graphite.max_connections")
	f(func(c *Config) { c.MaxConnectionsPerSource = -1 }, "graphite.max_connections_per_source")
	f(func(c *Config) { c.MaxConnectionsPerSource = c.MaxConnections + 1 }, "graphite.max_connections_per_source")
	f(func(c *Config) { c.MaxConnectionsPerSource = c.MaxConnections }, "")
	f(func(c *Config) { c.MinRate = -1 }, "graphite.min_rate")
	f(func(c *Config) { c.MinRate = 0 }, "")
	f(func(c *Config) { c.MinRateWindow = 0 }, "graphite.min_rate_window")
	f(func(c *Config) { c.BatchSize = 0 }, "graphite.batch_size")
	f(func(c *Config) { c.BatchTimeout = 0 }, "graphite.batch_timeout")
	f(func(c *Config) { c.Separator = " " }, "graphite.separator")
	f(func(c *Config) { c.MaxInflightBytes = 0 }, "graphite.max_inflight_bytes")
	f(func(c *Config) { c.MaxInflightBytes = minInflightBytes(c.MaxLineBytes) }, "")
	f(func(c *Config) { c.MaxInflightBytes = minInflightBytes(c.MaxLineBytes) - 1 }, "graphite.max_inflight_bytes")
	f(func(c *Config) { c.MaxLineBytes = 64 << 20 }, "graphite.max_inflight_bytes") // a 64 MiB line needs more than 32 MiB
	f(func(c *Config) { c.MaxInflightBytes = 1<<40 + 1 }, "graphite.max_inflight_bytes")
	if d := DefaultConfig(); d.Addr != ":2003" || d.Separator != "." || d.Templates != nil || d.MaxInflightBytes != 32<<20 {
		t.Fatalf("DefaultConfig = %+v", d)
	}
}
