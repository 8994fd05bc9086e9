package store

import (
	"context"
	"strconv"

	"waymark/store/internal/kv"
)

// ReportCounts returns every anonymous report counter (keys.reportCounts):
// counter name → count. The names are built and read by alert/report.go;
// the store neither knows nor cares what they mean. They hold no id, and
// they outlive the alerts they count.
func (s *Records) ReportCounts(ctx context.Context) (map[string]int64, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	out := map[string]int64{}
	iter := s.RDB.HScan(ctx, s.k.reportCounts(), 0, "", 1000).Iterator()
	for iter.Next(ctx) {
		field := iter.Val()
		if !iter.Next(ctx) {
			break
		}
		n, err := strconv.ParseInt(iter.Val(), 10, 64)
		if err == nil {
			out[field] = n
		}
	}
	if err := iter.Err(); err != nil {
		return nil, s.Wrap("report counts", err)
	}
	return out, nil
}
