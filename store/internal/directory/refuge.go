package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/problem"
	"waymark/signpost"
	"waymark/store/internal/kv"
)

// A refuge's own staff keep its vacancies current. Each refuge account is
// linked to one refuge service (by an administrator); the link lives in a
// hash of staff id → service id, and an update rewrites that one service
// through PutServices, so it is validated, versioned and picked up by
// every instance's index like any other directory change.

// LinkRefuge links a refuge account to a refuge service of the directory.
// problem.ErrNotFound when there is no such service; a service that is not
// a refuge is refused as invalid.
func (s *Store) LinkRefuge(ctx context.Context, staffID, serviceID string) error {
	svc, err := s.DirectoryService(ctx, serviceID)
	if err != nil {
		return err
	}
	if !slices.Contains(svc.Categories, signpost.CategoryRefuge) {
		return problem.Invalidf("service", "is not a refuge")
	}
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	if err := s.RDB.HSet(ctx, s.k.refugeStaff(), staffID, serviceID).Err(); err != nil {
		return s.Wrap("link refuge "+staffID, err)
	}
	return nil
}

// RefugeOf is the service a refuge account is linked to;
// problem.ErrNotFound when none.
func (s *Store) RefugeOf(ctx context.Context, staffID string) (string, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	id, err := s.RDB.HGet(ctx, s.k.refugeStaff(), staffID).Result()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("store: refuge of %s: %w", staffID, problem.ErrNotFound)
	}
	if err != nil {
		return "", s.Wrap("refuge of "+staffID, err)
	}
	return id, nil
}

// DirectoryService reads one stored service; problem.ErrNotFound when
// there is none.
func (s *Store) DirectoryService(ctx context.Context, id string) (signpost.Service, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	raw, err := s.RDB.HGet(ctx, s.k.directory(), id).Result()
	if errors.Is(err, redis.Nil) {
		return signpost.Service{}, fmt.Errorf("store: service %s: %w", id, problem.ErrNotFound)
	}
	if err != nil {
		return signpost.Service{}, s.Wrap("read service "+id, err)
	}
	var svc signpost.Service
	if err := json.Unmarshal([]byte(raw), &svc); err != nil {
		return signpost.Service{}, fmt.Errorf("store: decode service %s: %w", id, err)
	}
	return svc, nil
}

// PutService stores one service, validated as an import validates it;
// its *signpost.ValidationError when refused.
func (s *Store) PutService(ctx context.Context, svc signpost.Service) error {
	res, err := s.PutServices(ctx, []signpost.Service{svc})
	if err != nil {
		return err
	}
	return res[0].Err
}

// SetVacancies records a refuge's vacancies as of at, keeping its note,
// and returns the service as stored.
func (s *Store) SetVacancies(ctx context.Context, serviceID string, count int, at time.Time) (signpost.Service, error) {
	svc, err := s.DirectoryService(ctx, serviceID)
	if err != nil {
		return signpost.Service{}, err
	}
	v := signpost.Vacancies{Count: count, UpdatedAt: at.UTC()}
	if svc.Vacancies != nil {
		v.Note = svc.Vacancies.Note
	}
	svc.Vacancies = &v
	res, err := s.PutServices(ctx, []signpost.Service{svc})
	if err != nil {
		return signpost.Service{}, err
	}
	if res[0].Err != nil {
		return signpost.Service{}, res[0].Err
	}
	return svc, nil
}
