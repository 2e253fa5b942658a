//go:build linux

package lab

import (
	"context"
	"strings"
)

// SetFirewall replaces the router's rules with rules, atomically. No rules: everything passes.
func (l *Lab) SetFirewall(ctx context.Context, rules ...Rule) error {
	_, err := l.run(ctx, l.tools.IP, []string{"netns", "exec", l.Router, l.tools.NFT, "-f", "-"}, nftRuleset(rules))
	if err == nil {
		names := make([]string, len(rules))
		for i, r := range rules {
			names[i] = r.String()
		}
		l.logf("firewall: [%s]", strings.Join(names, " "))
	}
	return err
}
