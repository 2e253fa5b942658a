// Package reporter fans each record out to the sinks: once into the spool for the push sinks
// (each reads it with its own cursor) and to every local sink, and counts it in the metrics. Build
// is the one switch that turns [[sinks]] sections into sinks. It starts sinks before the scheduler
// and stops them after it, so that no record is produced with nowhere to go.
package reporter
