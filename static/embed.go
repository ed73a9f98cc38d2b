// Package static holds the console's stylesheet, htmx and images, embedded
// into the binary so nothing is loaded from a CDN.
package static

import "embed"

// FS holds css/, js/ and img/.
//
//go:embed css js img
var FS embed.FS
