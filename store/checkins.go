package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/casework"
	"waymark/store/internal/kv"
)

// Check-ins. A case's schedule lives in keys.checkins(case), a hash whose
// plain field `active` ("1"/"0") case expiry reads; the schedule itself
// (interval or daily times, grace) is sealed under the case's data key,
// since a survivor's routine is personal. The pending missed-check-in timer
// is an entry of the one scheduler, fenced by the hash's `fence` field.

const (
	cfActive    = "active"
	cfSchedule  = "schedule" // sealed
	cfNextDue   = "next_due"
	cfLast      = "last"
	cfPaused    = "paused"
	cfFence     = "fence"
	cfWrongPINs = "wrong_pins"
	cfLogSeq    = "log_seq"
	cfUpdatedAt = "updated_at"
	cfVersion   = "ver"
)

// checkinLogKeep is how many check-in log entries a case keeps.
const checkinLogKeep = 100

type scheduleJSON struct {
	EverySec int64    `json:"every_s,omitempty"`
	Times    []string `json:"times,omitempty"`
	GraceSec int64    `json:"grace_s"`
}

func (s *conn) decodeCheckins(caseID string, h map[string]string, z sealer) (*casework.Checkins, error) {
	ver, _ := strconv.ParseInt(h[cfVersion], 10, 64)
	ci := &casework.Checkins{
		Active:    h[cfActive] == "1",
		NextDue:   kv.FromMS(h[cfNextDue]),
		Last:      kv.FromMS(h[cfLast]),
		Paused:    h[cfPaused] == "1",
		Fence:     h[cfFence],
		WrongPINs: atoi(h[cfWrongPINs]),
		LogSeq:    atoi(h[cfLogSeq]),
		UpdatedAt: kv.FromMS(h[cfUpdatedAt]),
		Version:   ver,
	}
	if ct := h[cfSchedule]; ct != "" && !z.gone {
		pt, err := z.open(s.k.checkins(caseID), cfSchedule, []byte(ct))
		if err != nil {
			return nil, err
		}
		var j scheduleJSON
		if err := json.Unmarshal(pt, &j); err != nil {
			return nil, fmt.Errorf("store: check-ins of case %s: %w", caseID, err)
		}
		ci.Schedule = casework.Schedule{Every: time.Duration(j.EverySec) * time.Second, Times: j.Times,
			Grace: time.Duration(j.GraceSec) * time.Second}
	}
	return ci, nil
}

func (s *conn) addCheckins(p *commitProg, caseID string, c *alert.Commit, z sealer) error {
	ck := s.k.checkins(caseID)
	if ci := c.Checkins; ci != nil {
		sched, _ := json.Marshal(scheduleJSON{
			EverySec: int64(ci.Schedule.Every / time.Second), Times: ci.Schedule.Times,
			GraceSec: int64(ci.Schedule.Grace / time.Second),
		})
		ct, err := z.seal(ck, cfSchedule, sched)
		if err != nil {
			return err
		}
		p.op("HSET", ck, cfActive, kv.Flag(ci.Active), cfSchedule, ct, cfNextDue, kv.MS(ci.NextDue),
			cfLast, kv.MS(ci.Last), cfPaused, kv.Flag(ci.Paused), cfFence, ci.Fence, cfWrongPINs, ci.WrongPINs,
			cfLogSeq, ci.LogSeq, cfUpdatedAt, kv.MS(ci.UpdatedAt), cfVersion, ci.Version+1)
	}
	lk := s.k.caseCheckinLog(caseID)
	for _, e := range c.CheckinLog {
		f := "l" + seqField(e.Seq)
		ct, err := z.seal(lk, f, encodeEntry(e))
		if err != nil {
			return err
		}
		p.op("HSET", lk, f, ct)
		if old := e.Seq - checkinLogKeep; old > 0 {
			p.op("HDEL", lk, "l"+seqField(old))
		}
	}
	return nil
}

// Checkins reads a case's check-in state (nil if none was ever set) and
// the log of its changes, oldest first.
func (s *Alerts) Checkins(ctx context.Context, caseID string) (*casework.Checkins, []alert.Entry, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	pipe := s.RDB.Pipeline()
	hc := pipe.HGetAll(ctx, s.k.checkins(caseID))
	lc := pipe.HGetAll(ctx, s.k.caseCheckinLog(caseID))
	dkc := pipe.Get(ctx, s.k.caseDataKey(caseID))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, s.Wrap("read check-ins", err)
	}
	z, err := s.sealerFor(caseID, dkc.Val())
	if err != nil {
		return nil, nil, err
	}
	var ci *casework.Checkins
	if h := hc.Val(); len(h) > 0 {
		if ci, err = s.decodeCheckins(caseID, h, z); err != nil {
			return nil, nil, err
		}
	}
	if z.gone {
		return ci, nil, nil
	}
	var log []alert.Entry
	lk := s.k.caseCheckinLog(caseID)
	for _, f := range slices.Sorted(maps.Keys(lc.Val())) {
		if !strings.HasPrefix(f, "l") {
			continue
		}
		pt, err := z.open(lk, f, []byte(lc.Val()[f]))
		if err != nil {
			return nil, nil, err
		}
		e, err := decodeEntry(atoi(f[1:]), pt)
		if err != nil {
			return nil, nil, err
		}
		log = append(log, e)
	}
	return ci, log, nil
}
