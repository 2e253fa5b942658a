package service

import (
	"os"
	"path/filepath"
	"testing"
)

// msiConfig is what the MSI installs as C:\ProgramData\ingestprobe\config.toml when there is none:
// exactly what `service install` writes on Windows (ProgramData at its usual place).
const msiConfig = "../packaging/windows/config.toml"

// TestMSIConfigMatchesCode: the MSI's default config is the code's (rewrite it with -update).
func TestMSIConfigMatchesCode(t *testing.T) {
	t.Setenv("ProgramData", `C:\ProgramData`)
	want := defaultConfig(LayoutFor("windows"), "windows")
	if *updatePackaging {
		os.MkdirAll(filepath.Dir(msiConfig), 0o755)
		os.WriteFile(msiConfig, []byte(want), 0o644)
	}
	got, err := os.ReadFile(msiConfig)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from what the code writes (run go test ./service -run TestMSIConfigMatchesCode -update)", msiConfig)
	}
}
