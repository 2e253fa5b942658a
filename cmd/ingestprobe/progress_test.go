package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFitLine: the progress line is cut by characters to the terminal's width — never inside a
// multi-byte character such as "…" — and one column is left free so the terminal does not wrap.
func TestFitLine(t *testing.T) {
	long := "probing 0/3  " + strings.Repeat("main: tcp…  ", 20) + "1.2s"
	for _, w := range []int{0, 20, 40, 80, 200} {
		got := fitLine(long, w)
		want := w - 1
		if w == 0 {
			want = 79 // width unknown: a classic terminal
		}
		if !utf8.ValidString(got) {
			t.Errorf("width %d: %q is not valid UTF-8", w, got)
		}
		if n := utf8.RuneCountInString(got); n > want || (n < want && len(long) > want) {
			t.Errorf("width %d: %d characters; want %d", w, n, want)
		}
	}
	if got := fitLine("short", 80); got != "short" {
		t.Errorf("got %q; want it whole", got)
	}
}

// TestNoProgressOnDumbTerminal: TERM=dumb cannot erase a line: no progress line is drawn.
func TestNoProgressOnDumbTerminal(t *testing.T) {
	e := env{stderrTTY: true, getenv: func(k string) string {
		if k == "TERM" {
			return "dumb"
		}
		return ""
	}}
	if showProgress(e, false) {
		t.Error("progress shown with TERM=dumb")
	}
	e.getenv = func(string) string { return "" }
	if !showProgress(e, false) || showProgress(e, true) {
		t.Error("want progress on a terminal, not with --json")
	}
}
