package main

import (
	"context"
	"fmt"
)

// demo runs Waymark on the embedded Redis with seeded data: the way a
// newcomer meets it. A configured Redis is refused, never silently
// replaced, and never filled with demo data.
func demo(ctx context.Context, c *cli, args []string) error {
	return serve(ctx, c, args, serveOptions{demo: true, onReady: func(ctx context.Context, a *app, base string) error {
		fmt.Fprintf(c.stdout, "Waymark demo: dashboard at %s/ (state is in memory and lost at exit)\n", base)
		return nil
	}})
}
