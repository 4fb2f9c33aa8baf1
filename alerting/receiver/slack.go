package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/template"
	"time"
)

// SlackConfig is Alertmanager's slack_config for a Slack incoming webhook.
// Every string but APIURL is a Go text/template over the notification
// (see the package documentation); an empty one gets outpost's default.
type SlackConfig struct {
	// APIURL is the incoming-webhook URL; empty means global slack_api_url.
	APIURL string `koanf:"api_url"`
	// Channel, Username, IconEmoji and IconURL override the webhook's own.
	Channel   string `koanf:"channel"`
	Username  string `koanf:"username"`
	IconEmoji string `koanf:"icon_emoji"`
	IconURL   string `koanf:"icon_url"`
	// Title defaults to "[FIRING:2] DiskFull (web1)", TitleLink to
	// outpost's external URL, Text to one line per alert (its summary and
	// reason), Fallback to the title, Color to danger, warning or good by
	// severity and status.
	Title     string `koanf:"title"`
	TitleLink string `koanf:"title_link"`
	Pretext   string `koanf:"pretext"`
	Text      string `koanf:"text"`
	Fallback  string `koanf:"fallback"`
	Footer    string `koanf:"footer"`
	Color     string `koanf:"color"`
	// LinkNames makes Slack link @names and #channels.
	LinkNames bool `koanf:"link_names"`
	// SendResolved sends resolved alerts too (default false).
	SendResolved bool `koanf:"send_resolved"`
	// Timeout bounds one request (default 10s).
	Timeout time.Duration `koanf:"timeout"`
	// HTTPConfig holds credentials and TLS settings.
	HTTPConfig HTTPConfig `koanf:"http_config"`
}

// templates returns the templated fields by key, the empty ones left out.
func (c SlackConfig) templates() map[string]string {
	all := map[string]string{
		"channel": c.Channel, "username": c.Username, "icon_emoji": c.IconEmoji, "icon_url": c.IconURL,
		"title": c.Title, "title_link": c.TitleLink, "pretext": c.Pretext, "text": c.Text,
		"fallback": c.Fallback, "footer": c.Footer, "color": c.Color,
	}
	for k, v := range all {
		if v == "" {
			delete(all, k)
		}
	}
	return all
}

// Validate names the first bad key, templates that do not parse included.
func (c SlackConfig) Validate() error {
	if c.APIURL != "" {
		if err := checkHTTPURL(c.APIURL); err != nil {
			return fmt.Errorf("api_url: %w", err)
		}
	}
	if _, err := parseTemplates(c.templates()); err != nil {
		return err
	}
	if err := checkTimeout(c.Timeout); err != nil {
		return err
	}
	if err := c.HTTPConfig.TLSConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return c.HTTPConfig.Validate()
}

// parseTemplates parses each source of srcs, naming the key of the first
// that fails.
func parseTemplates(srcs map[string]string) (map[string]*template.Template, error) {
	out := make(map[string]*template.Template, len(srcs))
	for _, k := range kv(srcs).Names() {
		t, err := parseTemplate(k, srcs[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = t
	}
	return out, nil
}

// slackMessage is the body of an incoming-webhook request.
type slackMessage struct {
	Channel     string            `json:"channel,omitempty"`
	Username    string            `json:"username,omitempty"`
	IconEmoji   string            `json:"icon_emoji,omitempty"`
	IconURL     string            `json:"icon_url,omitempty"`
	LinkNames   bool              `json:"link_names,omitempty"`
	Attachments []slackAttachment `json:"attachments"`
}

// slackAttachment is the one attachment that carries the notification.
type slackAttachment struct {
	Title     string   `json:"title,omitempty"`
	TitleLink string   `json:"title_link,omitempty"`
	Pretext   string   `json:"pretext,omitempty"`
	Text      string   `json:"text"`
	Fallback  string   `json:"fallback"`
	Footer    string   `json:"footer,omitempty"`
	Color     string   `json:"color,omitempty"`
	MrkdwnIn  []string `json:"mrkdwn_in"`
}

// slack is the Integration of a SlackConfig.
type slack struct {
	name   string
	cfg    SlackConfig
	url    string
	target string
	tmpls  map[string]*template.Template
	http   *httpSender
	log    *slog.Logger
}

func newSlack(c SlackConfig, g Global, sh shared) (*slack, error) {
	u := c.APIURL
	if u == "" {
		u = g.SlackAPIURL
	}
	if u == "" {
		return nil, errors.New("api_url: missing (set it or global slack_api_url)")
	}
	tmpls, err := parseTemplates(c.templates())
	if err != nil {
		return nil, err
	}
	s, err := sh.httpSender(c.HTTPConfig, orDefault(c.Timeout, DefaultHTTPTimeout))
	if err != nil {
		return nil, err
	}
	return &slack{name: sh.name, cfg: c, url: u, target: redactURL(u, false), tmpls: tmpls, http: s, log: sh.log}, nil
}

// Name implements Integration.
func (s *slack) Name() string { return s.name }

// SendResolved implements Integration.
func (s *slack) SendResolved() bool { return s.cfg.SendResolved }

// Send posts n as one attachment. A template that fails here falls back
// to the default for its field, with a warning logged, so a template bug
// never loses the message.
func (s *slack) Send(ctx context.Context, n *Notification) error {
	if n = withoutResolved(n, s.SendResolved()); n == nil {
		return nil
	}
	body, err := json.Marshal(s.render(newTmplData(n)))
	if err != nil {
		return Permanent(fmt.Errorf("encode slack message for %s: %w", s.target, err))
	}
	return s.http.post(ctx, "send slack message", s.target, s.url, body, jsonHeader(""))
}

// render builds the message of d.
func (s *slack) render(d *tmplData) *slackMessage {
	title := s.field(d, "title", func() string { return slackEscape(subjectLine(d)) })
	return &slackMessage{
		Channel:   s.field(d, "channel", nil),
		Username:  s.field(d, "username", nil),
		IconEmoji: s.field(d, "icon_emoji", nil),
		IconURL:   s.field(d, "icon_url", nil),
		LinkNames: s.cfg.LinkNames,
		Attachments: []slackAttachment{{
			Title:     title,
			TitleLink: s.field(d, "title_link", func() string { return d.ExternalURL }),
			Pretext:   s.field(d, "pretext", nil),
			Text:      s.field(d, "text", func() string { return slackText(d) }),
			Fallback:  s.field(d, "fallback", func() string { return title }),
			Footer:    s.field(d, "footer", nil),
			Color:     s.field(d, "color", func() string { return slackColor(d) }),
			MrkdwnIn:  []string{"fallback", "pretext", "text"},
		}},
	}
}

// field executes the template of key, or returns def() when there is none
// or it fails; a nil def stands for "".
func (s *slack) field(d *tmplData, key string, def func() string) string {
	if t := s.tmpls[key]; t != nil {
		out, err := execute(t, d)
		if err == nil {
			return out
		}
		s.log.Warn("slack template failed; using the default", "key", key, logErr, err)
	}
	if def == nil {
		return ""
	}
	return def()
}

// slackText is the default text: a line per alert with its severity (or
// state) and headline, and its reason on the next line.
func slackText(d *tmplData) string {
	var b strings.Builder
	for i := range d.Alerts {
		a := &d.Alerts[i]
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("• ")
		if tag := alertTag(a); tag != "" {
			b.WriteString("*" + tag + "* ")
		}
		b.WriteString(slackEscape(alertHeadline(a)))
		if a.Reason != "" {
			b.WriteString("\n      " + slackEscape(a.Reason))
		}
	}
	return b.String()
}

// alertTag is the word that leads an alert's line: its kind when it has
// one, "resolved" when resolved, else its severity.
func alertTag(a *tmplAlert) string {
	switch {
	case a.Kind == "insufficient_data":
		return "no data"
	case a.Kind != "":
		return strings.ReplaceAll(a.Kind, "_", " ")
	case a.Status == StatusResolved:
		return "resolved"
	}
	return severityOf(a)
}

// slackColor is good when d is resolved, else warning when the worst
// firing severity is warning, else danger.
func slackColor(d *tmplData) string {
	if d.Status != StatusFiring {
		return "good"
	}
	firing := d.Alerts.Firing()
	if len(firing) == 0 {
		return "danger"
	}
	color := "warning"
	for i := range firing {
		if severityOf(&firing[i]) != "warning" {
			color = "danger"
		}
	}
	return color
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
