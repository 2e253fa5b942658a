package diagnose

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestCatalogueDocumented pins the catalogue to docs/findings.md: every code is documented with its
// severity, and the docs name no code the program does not know.
func TestCatalogueDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/findings.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?m)^\\| `([a-z]+\\.[a-z0-9_]+)` \\| ([a-z /]+) \\|")
	documented := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = m[2]
	}
	var codes []string
	for _, e := range Catalogue {
		codes = append(codes, e.Code)
		sev, ok := documented[e.Code]
		if !ok {
			t.Errorf("%s: not documented in docs/findings.md", e.Code)
			continue
		}
		if !regexp.MustCompile(`\b` + string(e.Severity) + `\b`).MatchString(sev) {
			t.Errorf("%s: docs say severity %q; want it to include %q", e.Code, sev, e.Severity)
		}
		// Only these are documented with a second severity; every other code has exactly one,
		// which alert rules may rely on (dns.cname_unexpected, once "error / warning", is an error).
		if varies := []string{"net.packet_loss", "clock.skew", "live.congested"}; !slices.Contains(varies, e.Code) && sev != string(e.Severity) {
			t.Errorf("%s: docs say severity %q; want exactly %q (or add the code to the ones that vary)", e.Code, sev, e.Severity)
		}
	}
	for code := range documented {
		if !slices.Contains(codes, code) {
			t.Errorf("%s: documented but not in the catalogue", code)
		}
	}
	// The design's 28, plus tls.verify_disabled (added with the RTMP probe), plus the five
	// provider-rule url.* codes, plus the SRT probe's srt.timeout, srt.unreachable, srt.rejected
	// (the design's next reach) and srt.not_srt, plus net.mtu_blackhole and net.ipv6_broken (issue 14),
	// the live watch's eight (issue 19) and the uplink soak's uplink.insufficient, no_headroom,
	// retransmits, bufferbloat and unmeasured (issue 13).
	if len(Catalogue) != 53 {
		t.Errorf("got %d codes; want 53 (a new code needs this number raised and docs)", len(Catalogue))
	}
}
