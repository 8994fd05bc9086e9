package accounts

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/staff"
	"waymark/store/internal/kv"
)

// Team hash fields. A team's name and areas are not personal data.
const (
	teamFieldID      = "id"
	teamFieldName    = "name"
	teamFieldAreas   = "areas" // comma list of postcode districts
	teamFieldCreated = "created"
)

// createTeamScript: KEYS team, teams; ARGV id, field, value, ...
var createTeamScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1`)

// CreateTeam stores a new team; staff.ErrConflict when the id is taken.
func (s *Staff) CreateTeam(ctx context.Context, t staff.Team) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	n, err := createTeamScript.Run(ctx, s.RDB, []string{s.k.team(t.ID), s.k.teams()}, t.ID,
		teamFieldID, t.ID,
		teamFieldName, t.Name,
		teamFieldAreas, strings.Join(t.Areas, ","),
		teamFieldCreated, t.Created.UnixMilli(),
	).Int()
	if err != nil {
		return s.Wrap("create team "+t.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: create team %s: %w", t.ID, staff.ErrConflict)
	}
	return nil
}

// Team loads a team.
func (s *Staff) Team(ctx context.Context, id string) (staff.Team, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	m, err := s.RDB.HGetAll(ctx, s.k.team(id)).Result()
	if err != nil {
		return staff.Team{}, s.Wrap("load team "+id, err)
	}
	if m[teamFieldID] == "" {
		// No hash, or one without its id (damaged): no team.
		return staff.Team{}, fmt.Errorf("store: load team %s: %w", id, staff.ErrNotFound)
	}
	return decodeTeam(m), nil
}

// Teams loads every team.
func (s *Staff) Teams(ctx context.Context) ([]staff.Team, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.SMembers(ctx, s.k.teams()).Result()
	if err != nil {
		return nil, s.Wrap("list teams", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := s.RDB.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pipe.HGetAll(ctx, s.k.team(id))
		}
		return nil
	}); err != nil {
		return nil, s.Wrap("list teams", err)
	}
	out := make([]staff.Team, 0, len(ids))
	for _, c := range cmds {
		if m := c.Val(); m[teamFieldID] != "" {
			out = append(out, decodeTeam(m))
		}
	}
	return out, nil
}

func decodeTeam(m map[string]string) staff.Team {
	t := staff.Team{ID: m[teamFieldID], Name: m[teamFieldName], Areas: splitStaffList(m[teamFieldAreas])}
	if ms, err := strconv.ParseInt(m[teamFieldCreated], 10, 64); err == nil {
		t.Created = time.UnixMilli(ms)
	}
	return t
}
