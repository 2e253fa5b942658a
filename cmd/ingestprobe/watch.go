package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/record"
	"github.com/ingestprobe/ingestprobe/render"
)

// Bounds of check --watch --every. A round is a full check of every target — DNS, connects, an
// RTMP handshake — so faster than a second only loads the venue network and the ingest; the
// default lets a technician walking with a laptop see a change within ten seconds.
const (
	DefaultWatchEvery = 10 * time.Second
	MinWatchEvery     = time.Second
)

// Terminal control: cursor home, clear to the end of the line, clear below the cursor.
const (
	ansiHome      = "\x1b[H"
	ansiClearLine = "\x1b[K"
	ansiClearDown = "\x1b[J"
	ansiClearAll  = "\x1b[2J"
)

// watchOptions are check's flags as the watch loop needs them.
type watchOptions struct {
	every       time.Duration
	asJSON      bool
	concurrency int
}

// watch runs the check every o.every until ctx ends (Ctrl-C): the same pipeline as a single check,
// round after round, never two at once (a round that takes longer than the period is followed by
// the next at once). On a terminal the checklist is redrawn in place; otherwise each round is
// printed after the last, under a line naming it (with --json: one document per line). It returns
// the exit code of the last complete round; a round cut short by Ctrl-C is not shown.
func watch(ctx context.Context, e env, p *agent.Pipeline, targets []agent.Target, o watchOptions) (int, error) {
	now := e.now
	if now == nil {
		now = time.Now
	}
	redraw := e.stdoutTTY && !o.asJSON
	code := -1
	for round := 1; ; round++ {
		start := now()
		var prog *progress
		if e.stderrTTY && !o.asJSON {
			prog = newProgress(e, targets)
			p.Progress = prog.update
		}
		recs := agent.RunOnce(ctx, p, targets, o.concurrency)
		prog.finish()
		if ctx.Err() != nil {
			break
		}
		var err error
		if code, err = writeRound(e, recs, round, start, o, redraw); err != nil {
			return exitUsage, err
		}
		timer := time.NewTimer(max(0, start.Add(o.every).Sub(now())))
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if code < 0 {
		return exitStopped, ctx.Err()
	}
	if redraw {
		fmt.Fprintln(e.stdout) // leave the prompt below the last frame
	}
	return code, nil
}

// writeRound shows one round and returns its exit code.
func writeRound(e env, recs []record.Record, round int, start time.Time, o watchOptions, redraw bool) (int, error) {
	doc := render.NewDocument(recs)
	code := exitOK
	if doc.Verdict == record.NoGo {
		code = exitNoGo
	}
	if o.asJSON {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			return exitUsage, err
		}
		_, err := e.stdout.Write(b.Bytes())
		return code, err
	}
	var list bytes.Buffer
	if err := render.Checklist(&list, recs, checklistOptions(e)); err != nil {
		return exitUsage, err
	}
	head := fmt.Sprintf("ingestprobe check --watch — round %d at %s, every %s — Ctrl-C to stop", round, start.Format("15:04:05"), o.every)
	var b strings.Builder
	if !redraw {
		fmt.Fprintf(&b, "== %s\n\n%s", head, list.String())
		_, err := io.WriteString(e.stdout, b.String())
		return code, err
	}
	// Home, then each line over the last frame's, clearing what is left of it: no flicker, and a
	// shorter frame leaves nothing of the longer one below it. The first frame clears the screen.
	if round == 1 {
		b.WriteString(ansiHome + ansiClearAll)
	}
	b.WriteString(ansiHome)
	for _, line := range strings.Split(strings.TrimRight(head+"\n\n"+list.String(), "\n"), "\n") {
		b.WriteString(line + ansiClearLine + "\n")
	}
	b.WriteString(ansiClearDown)
	_, err := io.WriteString(e.stdout, b.String())
	return code, err
}
