package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigValidateStatus: `config validate` refuses a board on an address other hosts can reach
// without a token, and accepts it with one.
func TestConfigValidateStatus(t *testing.T) {
	open := writeConfig(t, "[status]\nlisten = \"0.0.0.0:9817\"\n")
	code, _, errs := runCmd(t, "config", "validate", open)
	if code != exitUsage || !strings.Contains(errs, `status.listen "0.0.0.0:9817" is not a loopback address: set status.token_file`) {
		t.Errorf("no token: got exit %d, stderr %q; want 2 and the reason", code, errs)
	}
	guarded := writeConfig(t, "[agent]\nstate_dir = \""+t.TempDir()+"\"\n[status]\nlisten = \"0.0.0.0:9817\"\ntoken_file = \"board.token\"\n")
	// The token file does not exist yet: the board would not start, so the config is not valid.
	if code, _, errs := runCmd(t, "config", "validate", guarded); code != exitUsage || !strings.Contains(errs, "status.token_file:") {
		t.Errorf("token_file missing: got exit %d, stderr %q; want 2 naming status.token_file", code, errs)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(guarded), "board.token"), []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCmd(t, "config", "validate", guarded); code != exitOK {
		t.Errorf("with token_file: got exit %d (%s%s); want 0", code, out, errs)
	}
}
