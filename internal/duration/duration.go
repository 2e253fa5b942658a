// Package duration holds Duration, a time.Duration written as a string in TOML ("30s", "5m",
// "12h"). It is a leaf so that every package that owns a config section (config, sink) can use it;
// go-toml does not decode "30s" into a time.Duration.
package duration

import (
	"fmt"
	"time"
)

// Duration is a struct so that a bare integer (interval = 30) is an error rather than 30
// nanoseconds.
type Duration struct{ d time.Duration }

// Of makes a Duration.
func Of(d time.Duration) Duration { return Duration{d} }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return &Error{Text: string(b)}
	}
	if v == 0 {
		// Every duration of the config has a default and none means "off" at zero: "0s" would be
		// the default in silence, which is not what its writer meant.
		return &Error{Text: string(b), Zero: true}
	}
	d.d = v
	return nil
}

// MarshalText writes the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.d.String()), nil }

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return d.d }

// Error is a text that is not a duration. go-toml gives no position for one written as a bare
// number, so the config loader finds its line itself from Text.
type Error struct {
	Text string
	Zero bool // it parsed, as zero
}

func (e *Error) Error() string {
	if e.Zero {
		return fmt.Sprintf("%q: zero is not allowed (leave the key out for its default)", e.Text)
	}
	return fmt.Sprintf("%q is not a duration (write it like \"30s\", \"5m\" or \"12h\")", e.Text)
}
