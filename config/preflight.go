package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/ingestprobe/ingestprobe/internal/capool"
	"github.com/ingestprobe/ingestprobe/internal/secret"
	"github.com/ingestprobe/ingestprobe/sink"
	"github.com/ingestprobe/ingestprobe/status"
)

// Preflight makes the checks the agent's start makes beyond the file itself, short of binding its
// ports: the secret and CA files the sinks and the board read (regular files, readable, one line,
// a board token long enough), listen addresses used twice, the state directory, the directories
// of jsonl files. `config validate`, `run` and the service call it, so a config that passes
// `config validate` in CI is one the agent starts with. `check` does not: it reads no sink's or
// board's files (a technician may not be allowed to read the service's token).
func (c *Config) Preflight() error {
	if c.blank {
		return errors.New("the file is empty: nothing is configured (config.example.toml lists every key)")
	}
	if err := preflightStateDir(c.Agent.StateDir); err != nil {
		if c.NeedsStateDir() {
			return err
		}
		// Nothing here spools: the agent runs without its state directory, record ids from the clock.
		c.warnings = append(c.warnings, err.Error()+"; no push sink needs it, so the agent runs without it (record ids from the clock)")
	}
	listens := map[string]string{} // address → the key that listens on it
	for i, k := range c.Sinks {
		where := fmt.Sprintf("sinks[%d] (%s)", i, k.Name)
		if k.TokenFile != "" {
			if _, warn, err := secret.ReadFile(k.TokenFile); err != nil {
				return fmt.Errorf("%s: token_file: %w", where, err)
			} else if warn != "" {
				c.warnings = append(c.warnings, fmt.Sprintf("%s: token_file %s", where, warn))
			}
		}
		if k.CAFile != "" {
			pem, err := secret.ReadRegular(k.CAFile, capool.MaxBytes)
			if err == nil {
				_, err = capool.Pool(k.CAFile, pem)
			}
			if err != nil {
				return fmt.Errorf("%s: ca_file: %w", where, err)
			}
		}
		switch k.Type {
		case sink.Prometheus:
			listens[k.Listen] = where + "'s listen"
		case sink.JSONL:
			if k.Path != "" && k.Path != "-" {
				if err := preflightFileDir(k.Path); err != nil {
					return fmt.Errorf("%s: path: %w", where, err)
				}
			}
		}
	}
	if s := c.Status; s != nil {
		if other, ok := listens[s.Listen]; ok && !strings.HasSuffix(s.Listen, ":0") {
			return fmt.Errorf("status.listen %q is also %s: each needs a port of its own", s.Listen, other)
		}
		if s.TokenFile != "" {
			tok, warn, err := secret.ReadFile(s.TokenFile)
			if err != nil {
				return fmt.Errorf("status.token_file: %w", err)
			}
			if n := len(strings.TrimSpace(tok)); n < status.MinTokenLength {
				return fmt.Errorf("status.token_file: the token has %d characters; use at least %d random ones (openssl rand -hex 16)", n, status.MinTokenLength)
			}
			if warn != "" {
				c.warnings = append(c.warnings, "status.token_file "+warn)
			}
		}
	}
	return nil
}

// writable says whether this process may create files in dir, an existing directory (a seam for
// tests, which run as root).
var writable = dirWritable

// preflightStateDir: the state directory is a directory this user may write, or can be made in
// the nearest directory that exists.
func preflightStateDir(dir string) error {
	hint := "set agent.state_dir to a directory this user may write (the agent keeps its record sequence and the spool there), or run as the service's user"
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("agent.state_dir %s is a file, not a directory", dir)
	case err == nil:
		if err := writable(dir); err != nil {
			return fmt.Errorf("agent.state_dir %s: %w: %s", dir, err, hint)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("agent.state_dir %s: %w: %s", dir, err, hint)
	}
	parent := dir
	for {
		next := filepath.Dir(parent)
		if next == parent {
			return nil
		}
		parent = next
		fi, err := os.Stat(parent)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && !fi.IsDir() {
			return fmt.Errorf("agent.state_dir %s: %s is a file, not a directory", dir, parent)
		}
		if err == nil {
			err = writable(parent)
		}
		if err != nil {
			return fmt.Errorf("agent.state_dir %s cannot be created: %s: %w: %s", dir, parent, err, hint)
		}
		return nil
	}
}

// preflightFileDir: the directory a file is appended to exists (the sink creates the file, not
// its directories).
func preflightFileDir(path string) error {
	d := filepath.Dir(path)
	fi, err := os.Stat(d)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the directory %s does not exist", d)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", d)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory, not a file", path)
	}
	return nil
}

// validListen checks host:port the way a listener will read it: a port number from 0 to 65535
// and a host that is empty, an IP address or a host name.
func validListen(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || len(port) > 5 {
		return false
	}
	n := 0
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return false
	}
	if host == "" || net.ParseIP(host) != nil {
		return true
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if !nameRE.MatchString(label) || strings.ContainsAny(label, "_") {
			return false
		}
	}
	return true
}

// NeedsStateDir says whether the agent cannot run without agent.state_dir: a push sink (http,
// remote_write) spools there. Without one the agent keeps only its record sequence there, and
// falls back to ids from the clock when the directory cannot be used.
func (c *Config) NeedsStateDir() bool {
	for _, k := range c.Sinks {
		if k.Type == sink.HTTP || k.Type == sink.RemoteWrite {
			return true
		}
	}
	return false
}
