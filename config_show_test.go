package main

import (
	"strings"
	"testing"

	"outpost/ui"
)

func TestShownConfig_MasksSecrets(t *testing.T) {
	c := defaultConfig()
	c.Auth.Tokens = []ui.Token{{Token: "tok-very-secret-1", Role: ui.RoleAdmin}}
	c.Alerting.Global.SMTPAuthPassword = "smtp-very-secret-2"
	c.Alerting.Global.SlackAPIURL = "https://hooks.slack.com/services/T0/B0/very-secret-3"
	got := shownConfig(c)
	for _, secret := range []string{"tok-very-secret-1", "smtp-very-secret-2", "very-secret-3"} {
		if strings.Contains(got, secret) {
			t.Errorf("the shown configuration holds %q:\n%s", secret, got)
		}
	}
	for _, want := range []string{"addr: :8086", "********", "role: admin"} {
		if !strings.Contains(got, want) {
			t.Errorf("the shown configuration lacks %q:\n%s", want, got)
		}
	}
}

func TestMaskValue(t *testing.T) {
	for _, tc := range []struct{ key, in, want string }{
		{"url", "https://hooks.example.com/T0/very-secret?token=x", "https://hooks.example.com/********"},
		{"external_url", "http://bastion:8086", "http://bastion:8086"},
		{"api_key", "k", "********"},
		{"password_file", "/etc/outpost/pw", "/etc/outpost/pw"},
		{"addr", ":8086", ":8086"},
		{"url", "not a url", "********"},
	} {
		if got := maskValue(tc.key, tc.in); got != tc.want {
			t.Errorf("maskValue(%q, %q) = %q, want %q", tc.key, tc.in, got, tc.want)
		}
	}
}
