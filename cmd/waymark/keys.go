package main

import (
	"context"
	"encoding/base64"
	"fmt"

	"waymark/internal/randid"
	"waymark/seal"
)

func keysCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError("usage: waymark keys new | waymark keys rotate | waymark keys vapid")
	}
	switch args[0] {
	case "new":
		return keysNew(c)
	case "rotate":
		return keysRotate(ctx, c, args[1:])
	case "vapid":
		return keysVAPID(c)
	default:
		return usageError("waymark keys: unknown command %q", args[0])
	}
}

// keysNew prints fresh keys as lines for an env file. The key id carries
// no date (ids reach Redis inside sealed records' headers).
func keysNew(c *cli) error {
	id := "k" + randid.New("", 5)
	fmt.Fprintln(c.stdout, "# Waymark keys: keep this file secret, never in Redis or in version control.")
	fmt.Fprintln(c.stdout, "WAYMARK_KEYS="+seal.FormatKey(id, seal.NewRandomKey()))
	fmt.Fprintln(c.stdout, "WAYMARK_INDEX_KEY="+base64.RawURLEncoding.EncodeToString(seal.NewRandomKey()))
	fmt.Fprintln(c.stdout, "WAYMARK_PIN_KEY="+base64.RawURLEncoding.EncodeToString(seal.NewRandomKey()))
	return nil
}
