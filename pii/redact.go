package pii

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Redacted is the text every pii value shows in place of its content.
const Redacted = "[redacted]"

// redactedJSON is Redacted as a JSON string.
var redactedJSON = []byte(strconv.Quote(Redacted))

// formatRedacted implements fmt.Formatter for the pii types: every verb, flag
// and width prints Redacted, so no verb can reach the data.
func formatRedacted(f fmt.State, verb rune, typeName string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, goString(typeName))
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(Redacted))
	default:
		_, _ = io.WriteString(f, Redacted)
	}
}

func goString(typeName string) string {
	return "pii." + typeName + "{" + Redacted + "}"
}

func redactedValue() slog.Value { return slog.StringValue(Redacted) }

func redactedJSONCopy() []byte {
	out := make([]byte, len(redactedJSON))
	copy(out, redactedJSON)
	return out
}
