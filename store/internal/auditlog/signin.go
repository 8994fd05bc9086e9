package auditlog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/records"
	"waymark/store/internal/kv"
)

// claimSignInScript removes and returns every count whose window started
// before ARGV[1] (unix ms), as field, count pairs.
var claimSignInScript = redis.NewScript(`
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local w = tonumber(string.match(all[i], '^(%d+)|'))
  if w and w < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], all[i])
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out`)

// CountSignInFailure adds f.Count (at least 1) to its window's count. The
// address is kept only as a keyed tag.
func (s *Chain) CountSignInFailure(ctx context.Context, f records.SignInFailures) error {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	addr := f.Addr
	if !strings.HasPrefix(addr, "t:") {
		addr = "t:" + s.Tag("signin-addr", addr)
	}
	field := strings.Join([]string{strconv.FormatInt(f.Window.UnixMilli(), 10), f.Action, f.Actor, addr, f.Outcome}, "|")
	err := s.RDB.HIncrBy(ctx, s.k.signInFailures(), field, max(f.Count, 1)).Err()
	return s.Wrap("count sign-in failure", err)
}

// ClaimSignInFailures removes and returns, in one step, the counts of the
// windows that started before before: two instances never both get one.
func (s *Chain) ClaimSignInFailures(ctx context.Context, before time.Time) ([]records.SignInFailures, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	res, err := claimSignInScript.Run(ctx, s.RDB, []string{s.k.signInFailures()}, before.UnixMilli()).StringSlice()
	if err != nil {
		return nil, s.Wrap("claim sign-in failures", err)
	}
	var out []records.SignInFailures
	for i := 0; i+1 < len(res); i += 2 {
		parts := strings.Split(res[i], "|")
		n, _ := strconv.ParseInt(res[i+1], 10, 64)
		ms, err := strconv.ParseInt(parts[0], 10, 64)
		if len(parts) != 5 || err != nil {
			return out, fmt.Errorf("store: malformed sign-in count %q", res[i])
		}
		out = append(out, records.SignInFailures{Window: time.UnixMilli(ms), Action: parts[1], Actor: parts[2],
			Addr: parts[3], Outcome: parts[4], Count: n})
	}
	return out, nil
}
