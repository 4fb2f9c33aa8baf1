package receiver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// deliver runs one SMTP dialogue: dial (TLS from the start on port 465),
// EHLO, STARTTLS when offered (an error when require_tls and not offered),
// AUTH when a username is set, MAIL, RCPT for each recipient, DATA, QUIT.
// ctx and the timeout bound the whole dialogue. A 5xx reply is returned
// wrapped with Permanent.
func (e *email) deliver(ctx context.Context, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(e.cfg.Timeout, DefaultSMTPTimeout))
	defer cancel()
	host, _, _ := net.SplitHostPort(e.cfg.Smarthost)
	var conn net.Conn
	if e.implicitTLS {
		conn, err = (&tls.Dialer{Config: e.tls}).DialContext(ctx, "tcp", e.cfg.Smarthost)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", e.cfg.Smarthost)
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	// net/smtp has no context: the deadline bounds each read and write,
	// and cancellation unblocks them.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return classifySMTP("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(e.cfg.Hello); err != nil {
		return classifySMTP("EHLO", err)
	}
	if !e.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tls); err != nil {
				return classifySMTP("STARTTLS", err)
			}
		} else if e.requireTLS {
			return errors.New("server does not offer STARTTLS and require_tls is true")
		}
	}
	if e.cfg.AuthUsername != "" {
		if err := e.auth(c, host); err != nil {
			return err
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return classifySMTP("MAIL FROM", err)
	}
	for _, rcpt := range e.to {
		if err := c.Rcpt(rcpt.Address); err != nil {
			return classifySMTP("RCPT TO <"+rcpt.Address+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classifySMTP("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classifySMTP("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classifySMTP("end of DATA", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// auth authenticates with the best mechanism the server offers: CRAM-MD5
// when a secret is set, else PLAIN, else LOGIN.
func (e *email) auth(c *smtp.Client, host string) error {
	ok, offered := c.Extension("AUTH")
	if !ok {
		return errors.New("auth_username is set but the server offers no AUTH")
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	var a smtp.Auth
	switch {
	case e.cfg.AuthSecret != "" && slices.Contains(mechs, "CRAM-MD5"):
		a = smtp.CRAMMD5Auth(e.cfg.AuthUsername, e.cfg.AuthSecret)
	case slices.Contains(mechs, "PLAIN"):
		a = smtp.PlainAuth(e.cfg.AuthIdentity, e.cfg.AuthUsername, e.cfg.AuthPassword, host)
	case slices.Contains(mechs, "LOGIN"):
		a = &loginAuth{username: e.cfg.AuthUsername, password: e.cfg.AuthPassword, host: host}
	default:
		return fmt.Errorf("the server offers no supported AUTH mechanism (offers %q)", offered)
	}
	if err := c.Auth(a); err != nil {
		return classifySMTP("AUTH", err)
	}
	return nil
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks: the username
// and then the password, each on the server's request. Like PlainAuth it
// refuses to send them in clear text except to localhost.
type loginAuth struct {
	username, password, host string
	step                     int
}

// Start implements smtp.Auth.
func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection: LOGIN would send the password in clear text")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

// Next implements smtp.Auth.
func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

// isLocalhost reports whether host names this machine's loopback.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// classifySMTP names the step that failed; a 5xx reply makes the error
// Permanent, anything else (4xx, network, TLS) stays retryable.
func classifySMTP(step string, err error) error {
	err = fmt.Errorf("%s: %w", step, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return Permanent(err)
	}
	return err
}
