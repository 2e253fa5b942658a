// Package push delivers spooled records to collectors: the http sink (gzip NDJSON batches) and the
// remote_write sink (Prometheus remote write 1.0), over one delivery loop with its retry policy,
// HTTP client and response classification. The two sinks live with the loop because they share
// its unexported test seams (clock, timer, jitter) and its test rig; docs/sinks.md is the user's
// view.
package push
