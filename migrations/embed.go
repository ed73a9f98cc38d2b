// Package migrations holds Gatehouse's schema as plain SQL files
// (NNNN_name.sql, goose format), embedded into the binary.
package migrations

import "embed"

// FS holds every migration file. The postgres package applies them in order.
//
//go:embed *.sql
var FS embed.FS
