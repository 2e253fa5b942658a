package service

import (
	"strings"
	"testing"
	"time"

	kservice "github.com/kardianos/service"
)

// lyingSvc accepts every request and changes nothing: what the service manager then reports is
// all a command may say (issue 21: install said "started the service", then start failed with
// "Service does not exist").
type lyingSvc struct{ fakeSvc }

func (l *lyingSvc) Install() error { l.calls = append(l.calls, "install"); return nil }
func (l *lyingSvc) Start() error   { l.calls = append(l.calls, "start"); return nil }
func (l *lyingSvc) Stop() error    { l.calls = append(l.calls, "stop"); return nil }

// TestConfirm: a step the service manager does not confirm within the wait is an error naming the
// step and what the manager reports, and the command does not claim it.
func TestConfirm(t *testing.T) {
	t.Run("install not confirmed", func(t *testing.T) {
		ti := newTestInstall(t)
		ti.svc.unit = "" // the fake writes no unit file: the manager is all there is to ask
		ti.m.h.serviceFile = ""
		lying := &lyingSvc{fakeSvc{status: kservice.StatusUnknown, err: kservice.ErrNotInstalled}}
		ti.m.svc = lying
		err := ti.m.Install()
		if err == nil || !strings.Contains(err.Error(), "service install: the linux-systemd service manager reports the service not installed") {
			t.Errorf("got %v; want the install reported unconfirmed", err)
		}
		if out := ti.out.String(); strings.Contains(out, "installed the") || strings.Contains(out, "started the service") {
			t.Errorf("said:\n%s\nwant no claim of an install or a start", out)
		}
	})
	t.Run("start not confirmed", func(t *testing.T) {
		ti := newTestInstall(t)
		lying := &lyingSvc{fakeSvc{status: kservice.StatusStopped}}
		ti.m.svc = lying
		ti.m.h.serviceFile = ""
		start := time.Now()
		ti.m.confirmWait = 300 * time.Millisecond
		err := ti.m.Start()
		if err == nil || !strings.Contains(err.Error(), "service start: the linux-systemd service manager reports the service stopped after 300ms") {
			t.Errorf("got %v; want the start reported unconfirmed", err)
		}
		if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
			t.Errorf("waited %s; want the bounded wait of 300ms", d)
		}
		if strings.Contains(ti.out.String(), "done") {
			t.Errorf("said %q; want no claim", ti.out.String())
		}
	})
	t.Run("stop confirmed once the manager reports it", func(t *testing.T) {
		ti := newTestInstall(t)
		ti.svc.status, ti.svc.err = kservice.StatusRunning, nil
		ti.m.h.serviceFile = ""
		if err := ti.m.Stop(); err != nil || !strings.Contains(ti.out.String(), "service stop: done, the service is stopped") {
			t.Errorf("got %v, said %q; want the stop confirmed", err, ti.out.String())
		}
	})
}
