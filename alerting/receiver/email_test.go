package receiver

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// smtpServerPy runs aiosmtpd's Controller on 127.0.0.1:PORT and writes each
// message it accepts to OUTDIR as JSON (envelope, TLS and AUTH state,
// content). FLAGS is a comma-separated set: starttls (offer STARTTLS with
// CERT and KEY), smtps (TLS from the start, with CERT and KEY), requiretls (refuse mail before STARTTLS), auth (require
// AUTH as outpost / s3cret), loginonly (offer LOGIN, not PLAIN). Recipients
// starting with "reject" get 550, with "later" 451. It prints READY, then
// serves until its stdin closes.
const smtpServerPy = `
import json, os, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

outdir, port, flags, cert, key = sys.argv[1], int(sys.argv[2]), set(sys.argv[3].split(",")), sys.argv[4], sys.argv[5]

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        if address.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        base = os.path.join(outdir, "msg%03d" % len(os.listdir(outdir)))
        with open(base + ".tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": session.ssl is not None, "auth": bool(session.authenticated),
                       "data": envelope.content.decode("utf-8", "replace")}, f)
        os.rename(base + ".tmp", base + ".json")
        return "250 Message accepted"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"outpost" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)

kw = {}
if "starttls" in flags:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    kw["tls_context"] = ctx
if "smtps" in flags:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    kw["ssl_context"] = ctx
if "requiretls" in flags:
    kw["require_starttls"] = True
if "auth" in flags:
    kw.update(authenticator=authenticator, auth_required=True, auth_require_tls="starttls" in flags)
if "loginonly" in flags:
    kw["auth_exclude_mechanism"] = ["PLAIN"]
c = Controller(Handler(), hostname="127.0.0.1", port=port, **kw)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()
`

// smtpServer is a running aiosmtpd server.
type smtpServer struct {
	addr, outdir string
}

// received is one message the server accepted.
type received struct {
	MailFrom string   `json:"mail_from"`
	RcptTos  []string `json:"rcpt_tos"`
	TLS      bool     `json:"tls"`
	Auth     bool     `json:"auth"`
	Data     string   `json:"data"`
}

// messages returns what the server accepted so far, in order.
func (s *smtpServer) messages(t *testing.T) []received {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(s.outdir, "msg*.json"))
	slices.Sort(names)
	var out []received
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var r received
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// aiosmtpdPython returns a python3 that can import aiosmtpd (Debian's
// python3-aiosmtpd lives in /usr/bin/python3's path), or skips the test.
func aiosmtpdPython(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, p := range candidates {
		if exec.Command(p, "-c", "import aiosmtpd.controller").Run() == nil {
			return p
		}
	}
	t.Skip("no python3 with aiosmtpd (apt-get install python3-aiosmtpd)")
	return ""
}

// startSMTP starts an aiosmtpd server with flags (see smtpServerPy); the
// certificate files are used with starttls.
func startSMTP(t *testing.T, python, flags, certFile, keyFile string) *smtpServer {
	t.Helper()
	s := &smtpServer{addr: freePort(t), outdir: t.TempDir()}
	_, port, _ := net.SplitHostPort(s.addr)
	cmd := exec.Command(python, "-c", smtpServerPy, s.outdir, port, flags, certFile, keyFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the server stops on EOF
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "READY" {
			err = errors.New("unexpected output " + line)
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("aiosmtpd did not start: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("aiosmtpd not ready within 20s\n%s", stderr.String())
	}
	return s
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost
// (its own CA) and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "outpost test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// sendEmail builds an email integration from c and sends the test
// notification through it.
func sendEmail(t *testing.T, c EmailConfig) error {
	t.Helper()
	c.From = "Outpost <outpost@bastion.example>"
	it := buildOne(t, Config{Name: "ops", EmailConfigs: []EmailConfig{c}}, DefaultGlobal())
	return it.Send(t.Context(), testNotification())
}

// checkDelivered asserts the one message m carries the test notification.
func checkDelivered(t *testing.T, m received, wantRcpt []string) {
	t.Helper()
	if m.MailFrom != "outpost@bastion.example" || !slices.Equal(m.RcptTos, wantRcpt) {
		t.Errorf("envelope from %q to %v; want outpost@bastion.example to %v", m.MailFrom, m.RcptTos, wantRcpt)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, m.Data)
	}
	if got, want := msg.Header.Get("Subject"), "[FIRING:1] DiskFull (web1 /var critical)"; got != want {
		t.Errorf("Subject %q, want %q", got, want)
	}
	if got := msg.Header.Get("Message-Id"); !strings.Contains(got, "01JNZK5T3Q8W6Y2V9X4R7M1C0B") {
		t.Errorf("Message-Id %q does not hold the notification ID", got)
	}
	text, html := decodeParts(t, msg)
	reason := "3 of the last 3 datapoints [91.5 (08:27:00), 92.8 (08:28:00), 93.2 (08:29:00)] were > 90"
	if !strings.Contains(text, reason) || !strings.Contains(html, strings.ReplaceAll(reason, ">", "&gt;")) {
		t.Errorf("the bodies do not hold the reason:\n%s\n%s", text, html)
	}
	if strings.Contains(text, "web2") {
		t.Errorf("the resolved alert was sent with send_resolved false:\n%s", text)
	}
}

func TestEmail_Send_Plain(t *testing.T) {
	python := aiosmtpdPython(t)
	srv := startSMTP(t, python, "", "", "")
	f := func(name string, c EmailConfig, permanent bool, wantErr string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			c.Smarthost = srv.addr
			err := sendEmail(t, c)
			if err == nil || IsPermanent(err) != permanent || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("Send = %v (permanent %v); want an error with %q, permanent %v", err, IsPermanent(err), wantErr, permanent)
			}
		})
	}
	f("require_tls without STARTTLS", EmailConfig{To: "ops@example.org"}, false,
		"send email via "+srv.addr+": server does not offer STARTTLS and require_tls is true")
	f("550 recipient", EmailConfig{To: "reject@example.org", RequireTLS: new(false)}, true,
		"RCPT TO <reject@example.org>: 550")
	f("451 recipient", EmailConfig{To: "later@example.org", RequireTLS: new(false)}, false,
		"RCPT TO <later@example.org>: 451")
	f("AUTH not offered", EmailConfig{To: "ops@example.org", RequireTLS: new(false), AuthUsername: "outpost"}, false,
		"auth_username is set but the server offers no AUTH")
	if got := srv.messages(t); len(got) != 0 {
		t.Fatalf("%d messages accepted before the good send", len(got))
	}

	err := sendEmail(t, EmailConfig{To: "ops@example.org, Oncall <oncall@example.org>", Smarthost: srv.addr, RequireTLS: new(false)})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.messages(t)
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	checkDelivered(t, got[0], []string{"ops@example.org", "oncall@example.org"})
	if got[0].TLS || got[0].Auth {
		t.Errorf("tls %v auth %v on a plain server", got[0].TLS, got[0].Auth)
	}
}

func TestEmail_Send_StartTLSAuth(t *testing.T) {
	python := aiosmtpdPython(t)
	cert, key := selfSigned(t, t.TempDir())
	srv := startSMTP(t, python, "starttls,requiretls,auth", cert, key)
	good := EmailConfig{
		To: "ops@example.org", Smarthost: srv.addr, AuthUsername: "outpost", AuthPassword: "s3cret",
		TLSConfig: TLSConfig{CAFile: cert},
	}
	t.Run("unknown CA", func(t *testing.T) {
		c := good
		c.TLSConfig = TLSConfig{}
		err := sendEmail(t, c)
		var uae x509.UnknownAuthorityError
		if err == nil || IsPermanent(err) || !errors.As(err, &uae) {
			t.Errorf("Send = %v; want a retryable unknown-authority error", err)
		}
	})
	t.Run("bad password", func(t *testing.T) {
		c := good
		c.AuthPassword = "wrong"
		err := sendEmail(t, c)
		if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "AUTH: 535") {
			t.Errorf("Send = %v; want a permanent AUTH 535 error", err)
		}
	})
	if err := sendEmail(t, good); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.messages(t)
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	checkDelivered(t, got[0], []string{"ops@example.org"})
	if !got[0].TLS || !got[0].Auth {
		t.Errorf("tls %v auth %v; want both", got[0].TLS, got[0].Auth)
	}
}

func TestEmail_Send_LoginAuth(t *testing.T) {
	python := aiosmtpdPython(t)
	srv := startSMTP(t, python, "auth,loginonly", "", "")
	// PLAIN is not offered, so LOGIN is used; in clear text, which the
	// client allows only because the server is on loopback.
	err := sendEmail(t, EmailConfig{To: "ops@example.org", Smarthost: srv.addr, RequireTLS: new(false),
		AuthUsername: "outpost", AuthPassword: "s3cret"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.messages(t)
	if len(got) != 1 || !got[0].Auth {
		t.Fatalf("messages %+v; want one, authenticated", got)
	}
	checkDelivered(t, got[0], []string{"ops@example.org"})
}

func TestEmail_Send_ImplicitTLS(t *testing.T) {
	python := aiosmtpdPython(t)
	cert, key := selfSigned(t, t.TempDir())
	srv := startSMTP(t, python, "smtps", cert, key)
	c := EmailConfig{To: "ops@example.org", From: "Outpost <outpost@bastion.example>", Smarthost: srv.addr,
		TLSConfig: TLSConfig{CAFile: cert}}
	e := buildOne(t, Config{Name: "ops", EmailConfigs: []EmailConfig{c}}, DefaultGlobal()).(*email)
	if e.implicitTLS {
		t.Fatalf("implicit TLS on port %s; want it on 465 only", srv.addr)
	}
	e.implicitTLS = true // the test server cannot have port 465
	if err := e.Send(t.Context(), testNotification()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.messages(t)
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	checkDelivered(t, got[0], []string{"ops@example.org"})
}
