package service

import (
	"bytes"

	kservice "github.com/kardianos/service"
	"go.uber.org/zap"
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
		return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(ec), zapcore.Lock(zapcore.AddSync(r.Stderr)), r.Level)), nil
	}
	return r.Logger()
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
