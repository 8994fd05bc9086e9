package casefile

import (
	"crypto/hmac"
	"errors"
	"strconv"
	"time"
)

// Verify is what a receiver does (docs/decisions.md): the signature must match and the
// timestamp be within tolerance of now.
func Verify(secret []byte, tsHeader, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errors.New("casefile: bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("casefile: timestamp outside tolerance")
	}
	if !hmac.Equal([]byte(sigHeader), []byte(Sign(secret, ts, body))) {
		return errors.New("casefile: signature does not match")
	}
	return nil
}
