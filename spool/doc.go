// Package spool keeps records on disk until every push sink has acknowledged them: a durable,
// bounded, append-only queue with one cursor per sink, so a venue network that drops for an hour
// loses nothing and a restarted agent resends what was not delivered. docs/spool.md describes the
// format and the bounds.
package spool
