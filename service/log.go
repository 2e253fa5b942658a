package service

import (
	"bytes"

	kservice "github.com/kardianos/service"
	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// logger logs for the platform: journald reads stderr (no timestamps: it stamps lines itself),
// launchd writes stderr to a file (r.Logger), the Windows service logs to the Event Log (sys).
func (r Runner) logger(sys kservice.Logger) (*zap.Logger, error) {
	if sys != nil {
		return zap.New(&eventLogCore{LevelEnabler: r.Level, sys: sys, enc: zapcore.NewConsoleEncoder(zapcore.EncoderConfig{MessageKey: "msg"})}), nil
	}
	if r.Getenv("JOURNAL_STREAM") != "" {
		ec := zap.NewProductionEncoderConfig()
		ec.TimeKey = ""
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc := journalEncoder{zapcore.NewConsoleEncoder(ec)}
		return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(r.Stderr)), r.Level)), nil
	}
	return r.Logger()
}

// journalEncoder starts each line with its syslog priority, "<4>" for a warning: journald reads it
// from a stream (sd-daemon(3)) and files the line under it, so `journalctl -p warning` finds it.
// Without it every line is priority 6 (info).
type journalEncoder struct{ zapcore.Encoder }

func (e journalEncoder) Clone() zapcore.Encoder { return journalEncoder{e.Encoder.Clone()} }

func (e journalEncoder) EncodeEntry(ent zapcore.Entry, fs []zapcore.Field) (*buffer.Buffer, error) {
	line, err := e.Encoder.EncodeEntry(ent, fs)
	if err != nil {
		return nil, err
	}
	b := append([]byte(journalPriority(ent.Level)), line.Bytes()...)
	line.Reset()
	line.Write(b)
	return line, nil
}

// journalPriority is the sd-daemon(3) prefix of a zap level.
func journalPriority(l zapcore.Level) string {
	switch {
	case l >= zapcore.DPanicLevel:
		return "<2>" // SD_CRIT
	case l == zapcore.ErrorLevel:
		return "<3>" // SD_ERR
	case l == zapcore.WarnLevel:
		return "<4>" // SD_WARNING
	case l == zapcore.InfoLevel:
		return "<6>" // SD_INFO
	}
	return "<7>" // SD_DEBUG
}

// eventLogCore writes zap entries to a kardianos Logger (the Windows Event Log).
type eventLogCore struct {
	zapcore.LevelEnabler
	sys    kservice.Logger
	enc    zapcore.Encoder
	fields []zapcore.Field
}

func (c *eventLogCore) With(fs []zapcore.Field) zapcore.Core {
	return &eventLogCore{LevelEnabler: c.LevelEnabler, sys: c.sys, enc: c.enc, fields: append(append([]zapcore.Field{}, c.fields...), fs...)}
}

func (c *eventLogCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

func (c *eventLogCore) Write(ent zapcore.Entry, fs []zapcore.Field) error {
	buf, err := c.enc.EncodeEntry(ent, append(append([]zapcore.Field{}, c.fields...), fs...))
	if err != nil {
		return err
	}
	msg := string(bytes.TrimRight(buf.Bytes(), "\n"))
	buf.Free()
	switch {
	case ent.Level >= zapcore.ErrorLevel:
		return c.sys.Error(msg)
	case ent.Level == zapcore.WarnLevel:
		return c.sys.Warning(msg)
	}
	return c.sys.Info(msg)
}

func (c *eventLogCore) Sync() error { return nil }
