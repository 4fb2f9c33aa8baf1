package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"
)

// envPrefix starts every environment variable outpost reads.
const envPrefix = "OUTPOST_"

// args is what the command line holds.
type args struct {
	configFile string            // -config FILE
	version    bool              // -version
	set        map[string]string // --key=value, only the flags given
}

// defaultsKoanf returns the defaults as koanf keys (storage.path, ...).
func defaultsKoanf() (*koanf.Koanf, error) {
	k := koanf.New(".")
	if err := k.Load(structs.Provider(defaultConfig(), "koanf"), nil); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}
	return k, nil
}

// parseArgs parses the command line: -config, -version and one --key flag
// for every configuration key. -h prints the usage to stderr and returns
// flag.ErrHelp.
func parseArgs(argv []string, stderr io.Writer) (args, error) {
	defaults, err := defaultsKoanf()
	if err != nil {
		return args{}, err
	}
	a := args{set: make(map[string]string)}
	fs := flag.NewFlagSet("outpost", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned as one line; usage on -h only
	fs.StringVar(&a.configFile, "config", "", "read the configuration from this YAML file")
	fs.BoolVar(&a.version, "version", false, "print the version and exit")
	keys := defaults.Keys()
	for _, key := range keys {
		_, isBool := defaults.Get(key).(bool)
		fs.Var(&keyFlag{key: key, set: a.set, isBool: isBool}, key, "")
	}
	err = fs.Parse(argv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stderr, defaults, keys)
		return args{}, err
	case err != nil:
		return args{}, fmt.Errorf("%v (see outpost -h)", err)
	case fs.NArg() > 0:
		return args{}, fmt.Errorf("unexpected argument %q (see outpost -h)", fs.Arg(0))
	}
	return a, nil
}

// keyFlag is the flag of one configuration key. It only records the raw
// string; the decode hooks parse it with the other layers.
type keyFlag struct {
	key    string
	set    map[string]string
	isBool bool
}

func (f *keyFlag) String() string {
	if f == nil || f.set == nil {
		return ""
	}
	return f.set[f.key]
}

func (f *keyFlag) Set(s string) error {
	f.set[f.key] = s
	return nil
}

// IsBoolFlag lets --host.enabled stand for --host.enabled=true.
func (f *keyFlag) IsBoolFlag() bool { return f.isBool }

// printUsage prints -h: the fixed flags, then every key with its type and
// default.
func printUsage(w io.Writer, defaults *koanf.Koanf, keys []string) {
	fmt.Fprintf(w, `usage: outpost [-config FILE] [-version] [--KEY=VALUE ...]

  -config FILE   read the configuration from this YAML file
  -version       print the version and exit
  -h             print this help

Every configuration key below is a flag (--storage.path=/var/lib/outpost), an
environment variable (%sSTORAGE_PATH: the section, "_", the key, upper case)
and a YAML key (storage: {path: ...}). Flags override the environment, which
overrides the file, which overrides the defaults shown.

`, envPrefix)
	for _, key := range keys {
		kind, def := describeKey(key, defaults.Get(key))
		if def != "" {
			def = "default " + def
		}
		fmt.Fprintf(w, "  --%-28s %-9s %s\n", key, kind, def)
	}
}

// describeKey returns a key's value type and its default as -h shows them.
func describeKey(key string, def any) (kind, shown string) {
	switch v := def.(type) {
	case time.Duration:
		return "duration", formatDuration(v)
	case bool:
		return "bool", fmt.Sprint(v)
	case string:
		if v == "" {
			return "string", `""`
		}
		return "string", v
	case int, int64:
		n := reflect.ValueOf(v).Int()
		if strings.HasSuffix(key, "_bytes") || strings.HasSuffix(key, "_buffer") {
			return "size", formatSize(n)
		}
		return "int", fmt.Sprint(n)
	}
	if key == "auth.tokens" {
		return "list", "none (TOKEN:ROLE,...; roles read, write, admin)"
	}
	if items, ok := def.([]string); ok && len(items) > 0 {
		return "list", strings.Join(items, ",") + " (a,b,...)"
	}
	if def == nil || reflect.TypeOf(def).Kind() == reflect.Slice {
		return "list", "none (a,b,...)"
	}
	return "value", fmt.Sprint(def)
}

// loadConfig reads the layers in order, each overriding the one before:
// defaults, the YAML file (when a.configFile is set), the OUTPOST_*
// variables of environ, the flags set. It then decodes and validates the
// result. A key that is not a configuration key is an error naming it.
func loadConfig(a args, environ []string) (config, error) {
	k, err := defaultsKoanf()
	if err != nil {
		return config{}, err
	}
	fileK, err := loadFile(a.configFile)
	if err != nil {
		return config{}, err
	}
	envK := koanf.New(".")
	if err := envK.Load(env.Provider(".", env.Opt{
		Prefix:        envPrefix,
		TransformFunc: envKey,
		EnvironFunc:   func() []string { return environ },
	}), nil); err != nil {
		return config{}, fmt.Errorf("read environment: %w", err)
	}
	flagK := koanf.New(".")
	flagMap := make(map[string]any, len(a.set))
	for key, v := range a.set {
		flagMap[key] = v
	}
	if err := flagK.Load(confmap.Provider(flagMap, "."), nil); err != nil {
		return config{}, fmt.Errorf("read flags: %w", err)
	}
	for _, layer := range []*koanf.Koanf{fileK, envK, flagK} {
		if err := k.Merge(layer); err != nil {
			return config{}, fmt.Errorf("merge configuration: %w", err)
		}
	}

	var cfg config
	var md mapstructure.Metadata
	derr := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook:       decodeHook(),
		WeaklyTypedInput: true,
		Metadata:         &md,
		MatchName:        func(mapKey, fieldName string) bool { return mapKey == fieldName },
		TagName:          "koanf",
	}})
	if len(md.Unused) > 0 {
		slices.Sort(md.Unused)
		return config{}, unknownKey(md.Unused[0], a.configFile, fileK, envK)
	}
	if derr != nil {
		return config{}, decodeError(derr)
	}
	if err := cfg.Validate(); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// envKey maps OUTPOST_STORAGE_MAX_SERIES to storage.max_series: the prefix
// goes, the rest is lower-cased, and the first "_" separates the section
// from the key (section names never hold "_"; keys may).
func envKey(name, value string) (string, any) {
	rest := strings.ToLower(strings.TrimPrefix(name, envPrefix))
	if rest == "" {
		return "", nil
	}
	section, key, ok := strings.Cut(rest, "_")
	if !ok {
		return section, value
	}
	return section + "." + key, value
}

// loadFile reads the YAML file at path ("" gives an empty layer). A key
// written with no value (YAML null) is dropped, so it keeps its default;
// write "" for an empty string.
func loadFile(path string) (*koanf.Koanf, error) {
	k := koanf.New(".")
	if path == "" {
		return k, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	m, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	dropNulls(m)
	if err := k.Load(confmap.Provider(m, ""), nil); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return k, nil
}

// dropNulls deletes the nil values of m and of the maps below it.
func dropNulls(m map[string]any) {
	for key, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, key)
		case map[string]any:
			dropNulls(v)
		}
	}
}

// unknownKey names an unknown key and where it came from.
func unknownKey(key, file string, fileK, envK *koanf.Koanf) error {
	top, _, _ := strings.Cut(key, "[")
	switch {
	case fileK.Exists(top):
		return fmt.Errorf("unknown key %q in %s", key, file)
	case envK.Exists(top):
		section, rest, _ := strings.Cut(top, ".")
		name := envPrefix + strings.ToUpper(section)
		if rest != "" {
			name += "_" + strings.ToUpper(rest)
		}
		return fmt.Errorf("unknown key %q from environment variable %s", key, name)
	}
	return fmt.Errorf("unknown key %q", key)
}

// decodeError turns mapstructure's error for the first bad value into
// "key: message", noting how many more there are.
func decodeError(err error) error {
	var all []*mapstructure.DecodeError
	collectDecodeErrors(err, &all)
	if len(all) == 0 {
		return err
	}
	first := all[0]
	msg := fmt.Sprintf("%s: %v", first.Name(), first.Unwrap())
	if len(all) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(all)-1)
	}
	return errors.New(msg)
}

// collectDecodeErrors gathers the innermost *mapstructure.DecodeError of
// err's tree, in order.
func collectDecodeErrors(err error, out *[]*mapstructure.DecodeError) {
	if de, ok := err.(*mapstructure.DecodeError); ok {
		if inner := de.Unwrap(); inner != nil {
			before := len(*out)
			collectDecodeErrors(inner, out)
			if len(*out) > before {
				return
			}
		}
		*out = append(*out, de)
		return
	}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range e.Unwrap() {
			collectDecodeErrors(e, out)
		}
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			collectDecodeErrors(inner, out)
		}
	}
}
