package service

import (
	"embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/ingestprobe/ingestprobe/config"
)

// The files the service writes, as text/template files. packaging/systemd/ingestprobe.service and
// packaging/config.toml are these rendered for the package's paths (TestPackagingMatchesCode keeps
// them equal; go test ./service -run TestPackagingMatchesCode -update rewrites them).
//
//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{"systemdQuote": systemdQuote}).
	Option("missingkey=error").ParseFS(templateFS, "templates/*.tmpl"))

// render executes one embedded template; they are fixed and tested, so an error is a bug.
func render(name string, data any) string {
	var b strings.Builder
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		panic(fmt.Sprintf("service: template %s: %v", name, err))
	}
	return b.String()
}

// systemdUnit is the unit for binary exe and config file cfg. It holds no "{{" once rendered:
// kardianos renders SystemdScript as a template of its own, so what `service install` writes is
// exactly this text.
func systemdUnit(exe, cfg string) string {
	return render("ingestprobe.service.tmpl", struct{ Exe, Config string }{exe, cfg})
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
	stateDir := "" // the default goes unsaid
	if l.StateDir != config.DefaultStateDir {
		stateDir = l.StateDir
	}
	return render("config.toml.tmpl", struct{ Config, Reload, StateDir string }{l.Config, reload, stateDir})
}
