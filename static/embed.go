// Package static holds the console's stylesheet, htmx and images, embedded
// into the binary so nothing is loaded from a CDN.
package static

import "embed"

// FS holds css/ and js/.
//
//go:embed css js
var FS embed.FS
