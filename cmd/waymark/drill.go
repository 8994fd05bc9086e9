package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"waymark/alert"
	"waymark/audit"
	"waymark/casework"
	"waymark/oncall"
	"waymark/problem"
)

// waymark drill: a drill alert through the whole path, to test a team's
// rota, escalation and phones without a real survivor. The command only
// stores the alert (with its first escalation step due now); the running
// `waymark serve` instances show it, escalate it and page, exactly as for
// a real alert, with DRILL on every page and card. It ends when a
// responder claims and resolves it on the dashboard.

const drillUsage = "usage: waymark drill --team T [--risk standard|medium|high] [--by USERNAME]"

func drillCmd(ctx context.Context, c *cli, args []string) error {
	var team, risk, by string
	cmd := adminCommand{
		name:  "drill",
		usage: "drill --team T [--risk standard|medium|high] [--by USERNAME] [flags]",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&team, "team", "", "team whose rota and phones the drill tests (required)")
			fs.StringVar(&risk, "risk", string(casework.RiskHigh), "risk level whose escalation policy the drill follows (high runs every tier and the fallback)")
			fs.StringVar(&by, "by", "", "username of the member of staff running the drill (recorded on the alert and in the audit trail)")
		},
	}
	return helpOK(withAdmin(ctx, c, cmd, args, func(a *app, pos []string) error {
		if team == "" || len(pos) != 0 {
			return usageError("%s", drillUsage)
		}
		r := casework.Risk(strings.ToLower(risk))
		if !r.Valid() {
			return usageError("waymark drill: --risk must be standard, medium or high")
		}
		if _, err := a.store.Staff.Team(ctx, team); err != nil {
			if errors.Is(err, problem.ErrNotFound) {
				return &exitError{code: 1, err: fmt.Errorf("waymark drill: no team %q", team)}
			}
			return fmt.Errorf("waymark drill: %w", err)
		}
		actor := alert.Actor{ID: "admin-cli", Name: "an administrator (CLI)"}
		if by != "" {
			p, err := principalOf(ctx, a, by)
			if err != nil {
				return fmt.Errorf("waymark drill: %w", err)
			}
			actor = alert.Actor{ID: p.StaffID, Name: p.DisplayName}
			if actor.Name == "" {
				actor.Name = p.Username
			}
		}
		id, err := a.alerts.Drill(ctx, team, r, actor)
		if err != nil {
			return fmt.Errorf("waymark drill: %w", err)
		}
		if err := a.store.Cases.AppendAudit(ctx, audit.AuditEntry{At: a.now(), Actor: actor.ID, Action: "alert.drill",
			AlertID: id, Outcome: "ok: team " + team + ", risk " + string(r)}); err != nil {
			// The drill is stored and runs; say the audit line is missing.
			fmt.Fprintf(c.stderr, "warning: the drill is running but its audit entry failed: %v\n", err)
		}
		who, err := a.oncall.Who(ctx, team, a.now())
		if err == nil {
			var names []string
			for _, t := range oncall.Tiers() {
				for _, p := range who.Tiers[t] {
					names = append(names, string(t)+" "+p.ID)
				}
			}
			if len(names) == 0 {
				names = []string{"nobody (the fallback covers)"}
			}
			fmt.Fprintf(c.stdout, "on call now: %s\n", strings.Join(names, ", "))
		}
		fmt.Fprintf(c.stdout, "drill alert %s raised for team %s at %s risk: it escalates on the team's policy, every page says DRILL; claim and resolve it on the dashboard to end it\n", id, team, r)
		return nil
	}))
}
