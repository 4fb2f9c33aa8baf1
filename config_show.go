package main

import (
	"net/url"
	"strings"

	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"
	"go.yaml.in/yaml/v3"
)

// masked replaces a secret in the configuration shown on the status page.
const masked = "********"

// secretKeys are (parts of) key names whose values are secrets: tokens,
// passwords, API keys, and the Slack and webhook URLs that embed a token.
var secretKeys = []string{"token", "password", "secret", "credentials", "api_key", "authorization", "api_url"}

// shownConfig returns the configuration in effect as YAML, with every
// secret masked, for the status page: auth tokens, passwords, API keys,
// and of URLs that may carry credentials (webhooks, Alertmanager and Alerta
// addresses) everything but the scheme and host.
func shownConfig(c config) string {
	k := koanf.New(".")
	if err := k.Load(structs.Provider(c, "koanf"), nil); err != nil {
		return "# the configuration could not be shown: " + err.Error()
	}
	b, err := yaml.Marshal(maskSecrets("", k.Raw()))
	if err != nil {
		return "# the configuration could not be shown: " + err.Error()
	}
	return string(b)
}

// maskSecrets returns v with the values of secret keys masked, walking
// maps and lists.
func maskSecrets(key string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = maskSecrets(k, x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = maskSecrets(key, x)
		}
		return out
	case string:
		return maskValue(key, v)
	}
	return v
}

// maskValue masks s when key names a secret, or keeps only the scheme and
// host of a URL that might carry one.
func maskValue(key, s string) string {
	lk := strings.ToLower(key)
	if s == "" || strings.HasSuffix(lk, "_file") {
		return s
	}
	for _, part := range secretKeys {
		if strings.Contains(lk, part) {
			return masked
		}
	}
	if lk == "url" || (strings.HasSuffix(lk, "_url") && lk != "external_url") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return masked
		}
		return u.Scheme + "://" + u.Host + "/" + masked
	}
	return s
}
