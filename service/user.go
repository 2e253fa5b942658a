package service

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

func (m *Manager) ensureUser() error {
	name := m.l.User
	if name == "" || m.h.goos == "windows" {
		return nil
	}
	if m.h.userExists(name) {
		m.say("system user %s exists", name)
		return nil
	}
	var cmds [][]string
	switch m.h.goos {
	case "linux":
		cmds = [][]string{{"useradd", "--system", "--user-group", "--no-create-home", "--home-dir", m.l.StateDir,
			"--shell", nologin(), "--comment", "ingestprobe agent", name}}
	case "darwin":
		id, err := m.freeDarwinID()
		if err != nil {
			return err
		}
		u := "/Users/" + name
		g := "/Groups/" + name
		ids := strconv.Itoa(id)
		cmds = [][]string{
			{"dscl", ".", "-create", g}, {"dscl", ".", "-create", g, "PrimaryGroupID", ids}, {"dscl", ".", "-create", g, "Password", "*"},
			{"dscl", ".", "-create", u}, {"dscl", ".", "-create", u, "UniqueID", ids}, {"dscl", ".", "-create", u, "PrimaryGroupID", ids},
			{"dscl", ".", "-create", u, "UserShell", "/usr/bin/false"}, {"dscl", ".", "-create", u, "NFSHomeDirectory", "/var/empty"},
			{"dscl", ".", "-create", u, "RealName", "ingestprobe agent"}, {"dscl", ".", "-create", u, "Password", "*"},
			{"dscl", ".", "-create", u, "IsHidden", "1"},
		}
	default:
		return fmt.Errorf("service install: creating the user %s is not supported on %s: create it, then install again", name, m.h.goos)
	}
	for _, c := range cmds {
		if out, err := m.h.command(c[0], c[1:]...); err != nil {
			return fmt.Errorf("service install: creating user %s: %s: %w: %s", name, c[0], err, strings.TrimSpace(string(out)))
		}
	}
	m.say("created system user %s", name)
	return nil
}

// freeDarwinID finds a uid and gid below 500 (hidden from the login window) that neither users
// nor groups use, from the top of the range down, as installers of macOS role accounts do.
func (m *Manager) freeDarwinID() (int, error) {
	used := map[int]bool{}
	for _, kind := range []string{"/Users", "/Groups"} {
		attr := "UniqueID"
		if kind == "/Groups" {
			attr = "PrimaryGroupID"
		}
		out, err := m.h.command("dscl", ".", "-list", kind, attr)
		if err != nil {
			return 0, fmt.Errorf("service install: listing %s: %w", kind, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 {
				if n, err := strconv.Atoi(f[1]); err == nil {
					used[n] = true
				}
			}
		}
	}
	for id := 499; id >= 300; id-- {
		if !used[id] {
			return id, nil
		}
	}
	return 0, errors.New("service install: no free uid between 300 and 499 for the service user")
}

func lookupIDs(name string) (int, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("user %s: ids %q, %q are not numbers", name, u.Uid, u.Gid)
	}
	return uid, gid, nil
}

func nologin() string {
	for _, p := range []string{"/usr/sbin/nologin", "/sbin/nologin"} {
		if fileExists(p) {
			return p
		}
	}
	return "/bin/false"
}

// chownToService gives a path to the service account: the state directory wholly, the config by
// group only (root keeps writing it; the service only reads).
func (m *Manager) chownToService(p string, owner bool) error {
	switch m.h.goos {
	case "windows":
		// By SID, as account names are localized: S-1-5-19 LocalService, S-1-5-18 SYSTEM,
		// S-1-5-32-544 Administrators. The config holds stream keys: no inherited read for Users.
		args := []string{p, "/grant", "*S-1-5-19:(OI)(CI)M"}
		if !owner {
			args = []string{p, "/inheritance:r", "/grant:r", "*S-1-5-18:F", "*S-1-5-32-544:F", "*S-1-5-19:R"}
		}
		if out, err := m.h.command("icacls", args...); err != nil {
			return fmt.Errorf("service install: setting access to %s: %w: %s", p, err, strings.TrimSpace(string(out)))
		}
		return nil
	case "linux", "darwin":
		uid, gid, err := m.h.ids(m.l.User)
		if err != nil {
			return fmt.Errorf("service install: %w", err)
		}
		if !owner {
			uid = 0
		}
		if err := m.h.chown(p, uid, gid); err != nil {
			return fmt.Errorf("service install: %w", err)
		}
	}
	return nil
}
