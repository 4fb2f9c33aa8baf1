package main

// The ack and silence buttons of the alerts page, used in the browser:
// they work with the admin token and the form's token, and are refused
// (403) with a read token or with the form token removed or altered.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// alertForm is a form of the alerts page that may be the button sought.
type alertForm struct {
	Index     int    `json:"i"`         // in document.forms
	Path      string `json:"path"`      // of its action
	Score     int    `json:"score"`     // 3: names the alert's id, 2: a hidden field names its host, 1: sits next to the host's name
	Submitter int    `json:"submitter"` // its submit button for this action, among its submit buttons; -1: none
}

// findFormsJS lists the POST forms of the page whose action or submit
// button is kind ("ack" or "silence"), and how surely each is the one of
// the alert (id, host); others are the other alerts' hosts.
const findFormsJS = `((kind, id, host, others) => {
  const re = kind === 'ack' ? /(^|[^a-z])(ack|acknowledge)([^a-z]|$)/i : /silence/i;
  const not = /unack|unsilence|expire|delete|remove|retire/i;
  const out = [];
  [...document.forms].forEach((f, i) => {
    if ((f.getAttribute('method') || 'get').toLowerCase() !== 'post') return;
    const path = new URL(f.action, location.href).pathname;
    if (not.test(path)) return;
    const buttons = [...f.querySelectorAll('button, input[type=submit]')].filter(b => b.type === 'submit');
    const label = b => [b.name, b.value, b.textContent].join(' ');
    const sub = buttons.findIndex(b => re.test(label(b)) && !not.test(label(b)));
    if (!re.test(path) && sub < 0) return;
    let score = 0;
    if (path.includes(id) || [...f.elements].some(e => e.value === id)) score = 3;
    else if ([...f.elements].some(e => e.type === 'hidden' && e.value.includes(host))) score = 2;
    else for (let a = f.parentElement; a && a !== document.body; a = a.parentElement) {
      const text = a.innerText || '';
      if (others.some(o => text.includes(o))) break;
      if (text.includes(host)) { score = 1; break; }
    }
    out.push({i, path, score, submitter: sub >= 0 ? sub : (buttons.length ? 0 : -1)});
  });
  return out;
})(%s, %s, %s, %s)`

// prepareFormJS fills the form's empty required fields (and an empty
// comment or matcher field), then changes its csrf_token as asked
// ("keep", "remove", "alter"), and returns how many csrf_token fields the
// form had.
const prepareFormJS = `((i, host, csrf) => {
  const f = document.forms[i];
  const pad = n => String(n).padStart(2, '0');
  const later = new Date(Date.now() + 3600e3);
  for (const e of f.elements) {
    if (e.type === 'hidden' || e.disabled || e.value) continue;
    if (/match/i.test(e.name)) e.value = '{host="' + host + '"}';
    else if (/comment|reason|note/i.test(e.name)) e.value = 'outpost browser test';
    else if (!e.required) continue;
    else if (e.tagName === 'SELECT') e.value = (e.options[1] || e.options[0] || {}).value;
    else if (e.type === 'number') e.value = '1';
    else if (e.type === 'datetime-local') e.value = later.getFullYear() + '-' + pad(later.getMonth() + 1) + '-' + pad(later.getDate()) + 'T' + pad(later.getHours()) + ':' + pad(later.getMinutes());
    else if (e.type === 'date') e.value = later.toISOString().slice(0, 10);
    else if (/dur|for|expir|until|end/i.test(e.name)) e.value = '1h';
    else e.value = 'outpost browser test';
  }
  const tokens = [...f.querySelectorAll('input[name=csrf_token]')];
  for (const e of tokens) {
    if (csrf === 'remove') e.remove();
    if (csrf === 'alter') e.value = e.value.replace(/\.(.*)$/, (m, mac) => '.' + (mac.startsWith('A') ? 'B' : 'A').repeat(mac.length));
  }
  return tokens.length;
})(%d, %s, %s)`

// submitFormJS submits form i with its submit button sub, as a click
// would (the browser checks the fields, then navigates).
const submitFormJS = `((i, sub) => {
  const f = document.forms[i];
  const b = [...f.querySelectorAll('button, input[type=submit]')].filter(b => b.type === 'submit')[sub];
  f.requestSubmit(b);
})(%d, %d)`

// jsArgs formats Go values as JavaScript literals.
func jsArgs(vs ...any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	return out
}

// uiHosts are the hosts of the UIDemo alerts.
var uiHosts = []string{"ack-me", "silence-me", xssValue}

// findForm opens /alerts and returns the form of kind for host's alert;
// with none, it fails the test listing the page's forms.
func findForm(t *testing.T, b *browser, kind string, a uiAlert) alertForm {
	t.Helper()
	host := a.Labels["host"]
	if resp := b.open(t, "/alerts"); resp.Status != 200 {
		t.Fatalf("GET /alerts: HTTP %d (the page is not built yet?)", resp.Status)
	}
	forms := alertForms(t, b, kind, a)
	best := alertForm{Index: -1}
	for _, f := range forms {
		if f.Score > best.Score {
			best = f
		}
	}
	if best.Index < 0 || best.Score == 0 || best.Submitter < 0 {
		all := tabEval[[]string](t, b, `[...document.forms].map(f => (f.getAttribute('method') || 'get') + ' ' + f.action + ' [' + [...f.elements].map(e => e.name + '=' + e.value).join(' ') + ']')`)
		t.Fatalf("no %s form for the alert of %s (id %s) on /alerts: candidates %+v; forms %q\n"+
			"(a POST form whose action or submit button says %q, naming the alert's id in its action or a field)",
			kind, host, a.ID, forms, all, kind)
	}
	return best
}

// alertForms lists the candidate forms of kind for alert a on the open page.
func alertForms(t *testing.T, b *browser, kind string, a uiAlert) []alertForm {
	t.Helper()
	host := a.Labels["host"]
	var others []string
	for _, h := range uiHosts {
		if h != host {
			others = append(others, h)
		}
	}
	return tabEval[[]alertForm](t, b, fmt.Sprintf(findFormsJS, jsArgs(kind, a.ID, host, others)...))
}

// submitAlertForm finds the form of kind for a on /alerts, prepares its
// csrf_token as csrf says, switches to token (when not empty) just before
// submitting, and returns the status and path of the page the browser
// ends on and its text.
func submitAlertForm(t *testing.T, b *browser, kind string, a uiAlert, csrf, token string) (int64, string, string) {
	t.Helper()
	f := findForm(t, b, kind, a)
	n := tabEval[int](t, b, fmt.Sprintf(prepareFormJS, append([]any{f.Index}, jsArgs(a.Labels["host"], csrf)...)...))
	if n == 0 {
		t.Errorf("the %s form (%s) has no csrf_token field", kind, f.Path)
	}
	if token != "" {
		b.auth(t, token)
		defer b.auth(t, uiAdminToken)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(submitFormJS, f.Index, f.Submitter)))
	if err != nil {
		t.Fatalf("submit the %s form (%s) of %s: %v (did the browser refuse to submit it? a required field left empty?)", kind, f.Path, a.Labels["host"], err)
	}
	text := tabEval[string](t, b, `document.body ? document.body.innerText.slice(0, 300) : ""`)
	p := resp.URL
	if u, err := url.Parse(resp.URL); err == nil {
		p = u.Path
	}
	return resp.Status, p, text
}

// testAckSilence acknowledges the alert of ack-me and silences the one of
// silence-me with the alerts page's buttons, after checking that neither
// button is shown to a read token and that each is refused with a read
// token, without its form token and with an altered one.
func testAckSilence(t *testing.T, b *browser, u *uiServer) {
	b.log.take()
	defer func() {
		_, problems, dialogs := b.log.take()
		for _, p := range problems {
			// The browser logs each refused form (403) as a failed load.
			if !strings.Contains(p, "status of 403") {
				t.Errorf("console: %s", p)
			}
		}
		if len(dialogs) > 0 {
			t.Errorf("dialogs opened: %q", dialogs)
		}
	}()
	ack, silence := u.alertOf(t, "ack-me"), u.alertOf(t, "silence-me")

	b.auth(t, uiReadToken)
	resp := b.open(t, "/alerts")
	if resp.Status != 200 {
		b.auth(t, uiAdminToken)
		t.Fatalf("GET /alerts with a read token: HTTP %d (the page is not built yet?)", resp.Status)
	}
	for _, c := range []struct {
		kind string
		a    uiAlert
	}{{"ack", ack}, {"silence", silence}} {
		if fs := alertForms(t, b, c.kind, c.a); len(fs) > 0 {
			t.Errorf("a read token is shown %d %s forms: %+v", len(fs), c.kind, fs)
		}
	}
	b.auth(t, uiAdminToken)

	for _, c := range []struct {
		kind  string
		a     uiAlert
		done  func(uiAlert) bool
		state string
	}{
		{"ack", ack, func(a uiAlert) bool { return a.Ack != nil }, "acknowledged"},
		{"silence", silence, func(a uiAlert) bool { return len(a.SilencedBy) > 0 }, "silenced"},
	} {
		host := c.a.Labels["host"]
		for _, r := range []struct{ what, csrf, token string }{
			{"a read token", "keep", uiReadToken},
			{"no form token", "remove", ""},
			{"an altered form token", "alter", ""},
		} {
			status, path, text := submitAlertForm(t, b, c.kind, c.a, r.csrf, r.token)
			if status != 403 {
				t.Errorf("%s of %s with %s: HTTP %d at %s, want 403: %s", c.kind, host, r.what, status, path, text)
			} else {
				t.Logf("%s with %s: 403 %s", c.kind, r.what, strings.TrimSpace(text))
			}
			if c.done(u.alertOf(t, host)) {
				t.Fatalf("the alert of %s is %s after a refused %s with %s", host, c.state, c.kind, r.what)
			}
		}
		status, path, text := submitAlertForm(t, b, c.kind, c.a, "keep", "")
		if status != 200 || !strings.HasPrefix(path, "/alerts") {
			t.Errorf("%s of %s: ended on HTTP %d at %s, want 200 back on /alerts: %s", c.kind, host, status, path, text)
		}
		waitFor(t, 5*time.Second, func() string {
			if a := u.alertOf(t, host); !c.done(a) {
				return fmt.Sprintf("the alert of %s is not %s after its %s button: %+v", host, c.state, c.kind, a)
			}
			return ""
		})
	}
	if u.alertOf(t, xssValue).Ack != nil {
		t.Errorf("the alert of %s was acknowledged too", xssValue)
	}
}
