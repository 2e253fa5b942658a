package service

import (
	"embed"
	"fmt"
	"strings"

	"github.com/ingestprobe/ingestprobe/config"
)

// The files the service writes, as embedded template files with @NAME@ placeholders.
// packaging/systemd/ingestprobe.service and packaging/config.toml are these rendered for the
// package's paths (TestPackagingMatchesCode keeps them equal; go test ./service -run
// TestPackagingMatchesCode -update rewrites them).
//
// Plain placeholders, not text/template: text/template calls methods by reflection, which makes
// the linker keep every exported method of every type in the binary — 2.6 MB more text (11.4 →
// 14.0 MB), pages the agent maps and partly touches, for two files of five substitutions.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

// render fills the placeholders of one embedded template; the files are fixed and tested, so a
// missing file or a placeholder left unfilled is a bug.
func render(name string, pairs ...string) string {
	b, err := templateFS.ReadFile("templates/" + name)
	if err != nil {
		panic(fmt.Sprintf("service: template %s: %v", name, err))
	}
	out := strings.NewReplacer(pairs...).Replace(string(b))
	if p := unfilled(out); p != "" {
		panic(fmt.Sprintf("service: template %s: %s left unfilled", name, p))
	}
	return out
}

// unfilled is the first @NAME@ placeholder (capitals and '_') left in s, or "".
func unfilled(s string) string {
	for i := strings.IndexByte(s, '@'); i >= 0; {
		j := strings.IndexByte(s[i+1:], '@')
		if j < 0 {
			return ""
		}
		name := s[i+1 : i+1+j]
		if name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
			return "@" + name + "@"
		}
		i += 1 + j
	}
	return ""
}

// systemdUnit is the unit for binary exe and config file cfg. It holds no "{{" once rendered:
// kardianos renders SystemdScript as a template of its own, so what `service install` writes is
// exactly this text.
func systemdUnit(exe, cfg string) string {
	return render("ingestprobe.service.tmpl", "@EXEC@", systemdQuote(exe), "@CONFIG@", systemdQuote(cfg))
}

// systemdQuote quotes a path for ExecStart when it holds characters systemd would split on.
func systemdQuote(s string) string {
	if !strings.ContainsAny(s, " \t\"'\\;$%") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

// defaultConfig is what `service install` writes when the config does not exist, and what the
// packages ship. It has no target: the service starts, logs that it waits for one, and does not
// crash-loop.
func defaultConfig(l Layout, goos string) string {
	reload := "systemctl reload ingestprobe"
	switch goos {
	case "darwin":
		reload = "sudo ingestprobe service restart"
	case "windows":
		reload = "ingestprobe service restart   (as Administrator)"
	}
	stateDirLine := "" // Linux's default goes unsaid; elsewhere the file says where state goes
	if l.StateDir != config.StateDirFor("linux") {
		stateDirLine = fmt.Sprintf("state_dir = %q\n", l.StateDir)
	}
	return render("config.toml.tmpl", "@CONFIG@", l.Config, "@RELOAD@", reload, "@STATE_DIR_LINE@", stateDirLine)
}
