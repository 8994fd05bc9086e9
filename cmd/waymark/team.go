package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"waymark/staff"
)

const teamUsage = "usage: waymark team add|list (waymark team add -h for flags)"

// teamCmd is `waymark team`: teams and their areas, against the configured
// Redis.
func teamCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError(teamUsage)
	}
	switch args[0] {
	case "add":
		return teamAdd(ctx, c, args[1:])
	case "list":
		return teamList(ctx, c, args[1:])
	default:
		return usageError("waymark team: unknown command %q; %s", args[0], teamUsage)
	}
}

func teamAdd(ctx context.Context, c *cli, args []string) error {
	var id, name, areas string
	cmd := adminCommand{
		name:  "team add",
		usage: "team add --id T --name N [--areas SO14,SO15] [flags]",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&id, "id", "", "team id: a-z, 0-9 and -, starting with a letter, at most 32, no 4 digits in a row")
			fs.StringVar(&name, "name", "", "team name shown to staff")
			fs.StringVar(&areas, "areas", "", "comma list of postcode districts the team covers (such as SO14,SO15)")
		},
	}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) > 0 {
		return usageError("waymark team add: unexpected argument %d; use --id and --name", len(args)-len(rest)+1)
	}
	t, err := a.staff.AddTeam(ctx, staff.Team{ID: id, Name: name, Areas: splitComma(areas)})
	if err != nil {
		return adminError("team add", err)
	}
	fmt.Fprintf(c.stdout, "team %s added (%d areas)\n", t.ID, len(t.Areas))
	return nil
}

func teamList(ctx context.Context, c *cli, args []string) error {
	cmd := adminCommand{name: "team list", usage: "team list [flags]"}
	a, rest, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return helpOK(err)
	}
	defer a.close()
	if len(rest) != 0 {
		return usageError("usage: waymark team list")
	}
	all, err := a.staff.Teams(ctx)
	if err != nil {
		return adminError("team list", err)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tAREAS")
	for _, t := range all {
		fmt.Fprintf(w, "%s\t%s\t%s\n", t.ID, t.Name, orDash(strings.Join(t.Areas, ",")))
	}
	return w.Flush()
}
