package agent

import "os"

func writeFileString(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }
