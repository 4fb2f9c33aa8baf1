package main

import (
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"
)

// masked replaces a secret in the configuration shown on the status page.
const masked = "********"

// shownConfig returns the configuration in effect as YAML, with every
// token masked, for the status page.
func shownConfig(c config) string {
	c.Auth.Tokens = append(c.Auth.Tokens[:0:0], c.Auth.Tokens...)
	for i := range c.Auth.Tokens {
		c.Auth.Tokens[i].Token = masked
	}
	k := koanf.New(".")
	if err := k.Load(structs.Provider(c, "koanf"), nil); err != nil {
		return "# the configuration could not be shown: " + err.Error()
	}
	b, err := k.Marshal(yaml.Parser())
	if err != nil {
		return "# the configuration could not be shown: " + err.Error()
	}
	return string(b)
}
