package pages

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The status page shows the configuration in effect. main masks the
// tokens before it hands the YAML over (Deps.ConfigYAML); maskConfig is a
// second line of defence that masks, by key name, every value that may
// be a secret, so a secret field added to some package's Config later is
// not shown before main learns to mask it.

// maskedValue replaces a secret (main uses the same).
const maskedValue = "********"

// secretWords mark a key whose value is a secret: auth.tokens[].token,
// alerting receivers' password, auth_password, auth_secret, api_key,
// credentials, smtp_auth_password, headers such as Authorization.
var secretWords = []string{"password", "passwd", "secret", "token", "credential", "api_key", "apikey",
	"private_key", "authorization", "cookie", "bearer"}

// shownUnderSecret are keys shown even inside a secret's mapping (a
// token's role, an authorization's type).
var shownUnderSecret = map[string]bool{"role": true, "type": true, "name": true, "username": true}

// isSecretKey reports whether the value of key k is a secret. A key
// naming a file (password_file, credentials_file) holds a path: shown.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	if strings.HasSuffix(k, "_file") {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// isURLKey reports whether key k holds a URL that may carry a secret in
// its path, query or user info (a Slack api_url, a webhook URL with a
// token). outpost's own external_url is shown as it is.
func isURLKey(k string) bool {
	k = strings.ToLower(k)
	return k != "external_url" && (k == "url" || strings.HasSuffix(k, "_url"))
}

// maskURL keeps a URL's scheme and host and masks the rest: its user
// info, and its path and query when they are more than "/".
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return maskedValue
	}
	if u.User == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == "" {
		return s
	}
	rest := ""
	if !(u.Path == "" || u.Path == "/") || u.RawQuery != "" || u.Fragment != "" {
		rest = "/" + maskedValue
	}
	host := u.Host
	if u.User != nil {
		host = maskedValue + "@" + host
	}
	return u.Scheme + "://" + host + rest
}

// maskConfig returns the YAML text with every secret value masked, or an
// error when the text is not YAML (then nothing of it may be shown).
func maskConfig(text string) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return "", fmt.Errorf("read the configuration to mask its secrets: %w", err)
	}
	if doc.Kind == 0 { // empty, or comments only
		return text, nil
	}
	maskNode(&doc, false)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", fmt.Errorf("write the masked configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("write the masked configuration: %w", err)
	}
	return buf.String(), nil
}

// maskNode masks the secrets under n; secret is set when n is the value
// of a secret key, which masks every scalar below it but those of
// shownUnderSecret.
func maskNode(n *yaml.Node, secret bool) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			maskNode(c, secret)
		}
	case yaml.AliasNode:
		if secret {
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: maskedValue}
		}
	case yaml.ScalarNode:
		if secret {
			maskScalar(n)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			s := (secret && !shownUnderSecret[strings.ToLower(k)]) || isSecretKey(k)
			switch {
			case v.Kind == yaml.ScalarNode && s:
				maskScalar(v)
			case v.Kind == yaml.ScalarNode && isURLKey(k) && v.Value != "":
				v.Value, v.Style = maskURL(v.Value), 0
			case v.Kind == yaml.AliasNode && s:
				*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: maskedValue}
			default:
				maskNode(v, s)
			}
		}
	}
}

// maskScalar masks a scalar that holds something: an empty or null one
// stays, so the page shows that it is unset.
func maskScalar(n *yaml.Node) {
	if n.Value == "" || n.Tag == "!!null" {
		return
	}
	n.Value, n.Tag, n.Style = maskedValue, "!!str", 0
}
