// Package reporter ships records to sinks: push sinks such as an HTTP
// collector or Prometheus remote write take results from a Spool, a durable
// on-disk queue that keeps every result a sink has not yet acknowledged, so
// a venue network that drops for an hour loses nothing.
//
// Names in this package carry a prefix per component (Spool, SpoolCursor,
// SpoolOptions, ...) because several sinks live side by side here.
package reporter
