package receiver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig is the subset of Alertmanager's tls_config that outpost
// supports, for HTTPS peers (http_config.tls_config) and for SMTP
// (email_configs[].tls_config).
type TLSConfig struct {
	// CAFile is a PEM file of the CAs to trust instead of the system's.
	CAFile string `koanf:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key, PEM.
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// ServerName is the name to verify the certificate against; empty
	// means the host being dialled.
	ServerName string `koanf:"server_name"`
	// InsecureSkipVerify accepts any certificate.
	InsecureSkipVerify bool `koanf:"insecure_skip_verify"`
}

// Validate checks that cert_file and key_file come together; the files
// themselves are read by Build.
func (t TLSConfig) Validate() error {
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("tls_config: cert_file and key_file go together")
	}
	return nil
}

// build returns the *tls.Config of t; serverName is used when t sets none.
// It reads the files now, so a missing file is a configuration error.
func (t TLSConfig) build(serverName string) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         serverName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // the operator's explicit choice
	}
	if t.ServerName != "" {
		cfg.ServerName = t.ServerName
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls_config: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_config: ca_file: %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls_config: cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
