package main

// The headless Chromium the page tests drive (main_ui_browser_test.go,
// main_ui_actions_test.go): Debian's chromium started by chromedp with a
// fresh profile and no network but loopback, one tab whose requests,
// console errors, exceptions and dialogs are recorded in the order
// Chromium reports them, and bounded steps.

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// needChromium returns the path of Debian's chromium, or skips the test
// (fails it under CI).
func needChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		missingDep(t, "headless Chromium is not installed (apt-get install chromium): %v", err)
	}
	return p
}

// browser is one headless Chromium with one tab.
type browser struct {
	ctx  context.Context // the tab's; each step adds its own deadline
	base string
	log  *tabLog
	out  *logBuffer // Chromium's own output
}

// newBrowser starts Chromium with a fresh profile, the cache off (so that
// every page reports its whole weight) and every host name but loopback
// resolving to nothing, as on a machine with the network unplugged.
func newBrowser(t *testing.T, path, base string) *browser {
	t.Helper()
	b := &browser{base: base, log: newTabLog(), out: new(logBuffer)}
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(b.out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.log.on),
		chromedp.WithErrorf(func(f string, a ...any) { fmt.Fprintf(b.out, "chromedp: "+f+"\n", a...) }))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit, before the profile is removed
		if t.Failed() {
			var lines []string
			for l := range strings.Lines(b.out.String()) {
				if !strings.Contains(l, "dbus/") { // no system bus in containers: noise
					lines = append(lines, l)
				}
			}
			t.Logf("chromium output:\n%s", strings.Join(lines, ""))
		}
	})
	b.ctx = ctx
	b.log.dismiss = func() {
		go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
	}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }() // the first run starts the browser: no deadline on it
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v\n%s", err, b.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("chromium did not start within 30 s\n%s", b.out)
	}
	tabCall(t, b, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
	b.probe(t)
	return b
}

// probe checks that the tab's listener sees what the page tests count on
// it to see: a console error, an uncaught exception and a dialog, raised
// on the blank page the tab starts with.
func (b *browser) probe(t *testing.T) {
	t.Helper()
	tabEval[chromedp.Void](t, b, `console.error("probe"); setTimeout(() => { throw new Error("probe") }, 0); setTimeout(() => alert("probe"), 0)`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.log.mu.Lock()
		problems, dialogs := len(b.log.problems), len(b.log.dialogs)
		b.log.mu.Unlock()
		if problems >= 2 && dialogs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tab's listener saw %d console errors and exceptions and %d dialogs of a probe that raised 2 and 1", problems, dialogs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.log.take()
	b.log.mu.Lock()
	b.log.all = nil
	b.log.mu.Unlock()
}

// tabCall sends one protocol command to the tab, within 10 s.
func tabCall[P, R any](t *testing.T, b *browser, cmd cdp.Command[P, R], p P) R {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, p)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Method, err)
	}
	return r
}

// tabRun runs one action in the tab within d.
func tabRun[T any](t *testing.T, b *browser, d time.Duration, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// tabEval evaluates a JavaScript expression in the page within 10 s.
func tabEval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	return tabRun(t, b, 10*time.Second, "evaluate "+headLine(js), chromedp.Evaluate[T](js))
}

// tabPoll evaluates js every 50 ms until it is true or d has passed, and
// reports whether it became true. (chromedp.Poll builds its predicate with
// new Function, which the pages' Content-Security-Policy forbids.)
func tabPoll(t *testing.T, b *browser, d time.Duration, js string) bool {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if tabEval[bool](t, b, js) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// auth makes the tab send the token with every request.
func (b *browser) auth(t *testing.T, token string) {
	t.Helper()
	tabCall(t, b, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Authorization": "Bearer " + token}})
}

// viewport sets the tab's size; phone also makes it a mobile one, which
// honours the pages' meta viewport.
func (b *browser) viewport(t *testing.T, width int64, phone bool) {
	t.Helper()
	var opts []chromedp.EmulateViewportOption
	if phone {
		opts = append(opts, chromedp.EmulateMobile)
	}
	tabRun(t, b, 10*time.Second, "set the viewport", chromedp.EmulateViewport(width, 900, opts...))
}

// open navigates to path and returns the document's response.
func (b *browser) open(t *testing.T, path string) *network.Response {
	t.Helper()
	return tabRun(t, b, 20*time.Second, "open "+path, chromedp.NavigateResponse(b.base+path))
}

// tabReq is one network request of the tab.
type tabReq struct {
	method, url, host string
	local             bool // data:, blob: or about: (no network)
	typ               network.ResourceType
	status            int64
	bytes             float64
	failed            string
}

// tabLog records what the tab does, in the order Chromium tells it (a
// chromedp listener): requests with their answers and sizes, console
// errors, uncaught exceptions, error entries of the browser log, dialogs.
type tabLog struct {
	mu       sync.Mutex
	reqs     []*tabReq
	byID     map[network.RequestID]*tabReq
	problems []string
	dialogs  []string
	all      []string // every dialog since the start
	dismiss  func()   // answers an open dialog (set once the tab exists)
}

func newTabLog() *tabLog { return &tabLog{byID: map[network.RequestID]*tabReq{}} }

// on is the tab's listener: it runs in chromedp's event loop, so it only
// records (and starts the answer to a dialog, which would block the page).
func (l *tabLog) on(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if prev := l.byID[ev.RequestID]; prev != nil && ev.RedirectResponse != nil {
			prev.status = ev.RedirectResponse.Status
		}
		r := &tabReq{method: ev.Request.Method, url: ev.Request.URL, typ: ev.Type}
		switch u, err := url.Parse(ev.Request.URL); {
		case err != nil:
			r.host = "(unparsable)"
		case u.Host != "":
			r.host = u.Host
		default:
			r.host, r.local = "("+u.Scheme+")", true // data:, blob:, about:
		}
		l.reqs = append(l.reqs, r)
		l.byID[ev.RequestID] = r
	case *network.EventResponseReceived:
		if r := l.byID[ev.RequestID]; r != nil {
			r.status = ev.Response.Status
		}
	case *network.EventLoadingFinished:
		if r := l.byID[ev.RequestID]; r != nil {
			r.bytes = ev.EncodedDataLength
		}
	case *network.EventLoadingFailed:
		if r := l.byID[ev.RequestID]; r != nil && !ev.Canceled {
			r.failed = ev.ErrorText
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if a.Description != "" {
					args = append(args, a.Description)
				} else {
					args = append(args, string(a.Value))
				}
			}
			l.problems = append(l.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		l.problems = append(l.problems, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			l.problems = append(l.problems, fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *page.EventJavascriptDialogOpening:
		l.dialogs = append(l.dialogs, string(ev.Type)+": "+ev.Message)
		l.all = append(l.all, string(ev.Type)+": "+ev.Message)
		if l.dismiss != nil {
			l.dismiss()
		}
	}
}

// take returns what was recorded since the last take and starts afresh.
func (l *tabLog) take() (reqs []*tabReq, problems, dialogs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	reqs, problems, dialogs = l.reqs, l.problems, l.dialogs
	l.reqs, l.problems, l.dialogs = nil, nil, nil
	clear(l.byID)
	return reqs, problems, dialogs
}

// allDialogs returns every dialog that opened since the start.
func (l *tabLog) allDialogs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

// headLine returns s's first line, for messages.
func headLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
