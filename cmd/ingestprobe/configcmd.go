package main

import (
	"fmt"

	"github.com/ingestprobe/ingestprobe/config"
)

// configUsage names this platform's default file (C:\ProgramData\ingestprobe\config.toml on Windows).
func configUsage() string {
	return `Usage: ingestprobe config validate [FILE]

Loads FILE (default ` + defaultConfigPath() + `) strictly — unknown keys, bad durations, bad URLs and
impossible timings are errors with the key and line named — then makes every check the agent's
start makes short of binding its ports: token and CA files readable (regular files, one line),
listen addresses, the state directory, the directories of jsonl files. Prints a summary. Exit 0
when valid (run will start with it), 2 when not.
`
}

func cmdConfig(e env, args []string) (int, error) {
	fs := newFlagSet(e, "config", configUsage())
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) == 0 || pos[0] != "validate" {
		return exitUsage, usagef("config: want \"config validate [FILE]\" (see ingestprobe config --help)")
	}
	path := defaultConfigPath()
	switch len(pos) {
	case 1:
	case 2:
		path = pos[1]
	default:
		return exitUsage, usagef("config validate takes one file, got %d", len(pos)-1)
	}
	c, err := config.Load(path)
	if err == nil {
		err = preflight(c)
	}
	if err != nil {
		return exitUsage, usageError{err}
	}
	fmt.Fprintf(e.stdout, "%s: valid — agent %q, %d target(s), interval %s, timeout %s\n",
		path, c.Agent.ID, len(c.Targets), c.Agent.Interval.D(), c.Agent.Timeout.D())
	for _, w := range c.Warnings() {
		fmt.Fprintf(e.stdout, "warning: %s\n", w)
	}
	if len(c.Targets) == 0 {
		fmt.Fprintln(e.stdout, "note: no [[targets]]: `check` needs URLs on its command line, and `run` has nothing to probe")
	}
	return exitOK, nil
}

// preflight is config.Preflight with the file named, as Load names it.
func preflight(c *config.Config) error {
	if err := c.Preflight(); err != nil {
		return fmt.Errorf("config %s: %w", c.Path(), err)
	}
	return nil
}
