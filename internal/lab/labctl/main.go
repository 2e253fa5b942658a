//go:build linux

// Command labctl stands the integration lab (internal/lab) up and down by hand, for a developer
// who wants to run `ingestprobe check` in it and read the output. scripts/lab.sh wraps it;
// docs/lab.md describes the lab.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
)

const usage = `Usage: labctl COMMAND

  up                  build a lab and leave it running (kept: test runs do not sweep it)
  down                remove every lab whose builder has exited, kept ones included
  status              list the labs on this host
  venue               print the venue namespace of the newest kept lab
  firewall [RULE …]   replace the newest kept lab's firewall; no RULE = open
                      RULE: drop|reset|prohibit : PORT|udp/PORT|all|dns
                      e.g. drop:1935 reset:all drop:dns drop:udp/9000

Set LAB_ID to pick a lab other than the newest kept one. Needs root.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "labctl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("no command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch args[0] {
	case "up":
		if reason := lab.CannotRun(); reason != "" {
			return fmt.Errorf("%s", strings.TrimPrefix(reason, "integration: "))
		}
		if removed, err := lab.Sweep(time.Now(), false); err != nil {
			fmt.Fprintln(os.Stderr, "labctl: removing leftovers:", err)
		} else if len(removed) > 0 {
			fmt.Fprintln(os.Stderr, "labctl: removed leftover labs", removed)
		}
		l, err := lab.New(ctx, lab.Options{Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
		if err != nil {
			return err
		}
		if err := l.Keep(); err != nil {
			return err
		}
		fmt.Println(l.EnterHint())
		return nil
	case "down":
		removed, err := lab.Sweep(time.Now(), true)
		for _, id := range removed {
			fmt.Println("removed lab", id)
		}
		if len(removed) == 0 && err == nil {
			fmt.Println("no lab to remove")
		}
		return err
	case "status":
		labs, err := lab.List()
		if err != nil {
			return err
		}
		if len(labs) == 0 {
			fmt.Println("no lab on this host")
		}
		for _, f := range labs {
			state := "leftover"
			switch {
			case f.Owned:
				state = "in use by a running test"
			case f.Keep:
				state = "kept"
			}
			fmt.Printf("%s  venue %s  made %s  %s  rtmp module %v\n", f.ID, f.Venue, f.Created.Format(time.RFC3339), state, f.RTMP)
		}
		return nil
	case "venue":
		l, err := current()
		if err != nil {
			return err
		}
		fmt.Println(l.Venue)
		return nil
	case "firewall":
		l, err := current()
		if err != nil {
			return err
		}
		var rules []lab.Rule
		for _, s := range args[1:] {
			r, err := lab.ParseRule(s)
			if err != nil {
				return err
			}
			rules = append(rules, r)
		}
		if err := l.SetFirewall(ctx, rules...); err != nil {
			return err
		}
		if len(rules) == 0 {
			fmt.Println("firewall of lab", l.ID, "open")
		} else {
			fmt.Println("firewall of lab", l.ID, "set:", strings.Trim(fmt.Sprint(rules), "[]"))
		}
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// current is the lab named by LAB_ID, or else the newest kept one.
func current() (*lab.Lab, error) {
	if id := os.Getenv("LAB_ID"); id != "" {
		return lab.Attach(id)
	}
	labs, err := lab.List()
	if err != nil {
		return nil, err
	}
	labs = slices.DeleteFunc(labs, func(f lab.Found) bool { return !f.Keep })
	if len(labs) == 0 {
		return nil, fmt.Errorf("no kept lab: run scripts/lab.sh up first")
	}
	slices.SortFunc(labs, func(a, b lab.Found) int { return b.Created.Compare(a.Created) })
	return lab.Attach(labs[0].ID)
}
