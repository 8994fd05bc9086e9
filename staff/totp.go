package staff

import (
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: RFC 6238 with the parameters every authenticator app
// understands (SHA-1, 6 digits, 30 s), accepting one step either side of
// now for clock drift.
const (
	totpPeriod     = 30
	totpSkew       = 1
	totpSecretSize = 20 // 160 bits, RFC 4226's recommendation
)

// Enrolment is a new second factor for an authenticator app: the base32
// secret and the otpauth:// URL that a QR code would carry.
type Enrolment struct {
	Secret Secret
	URL    Secret
}

// newEnrolment makes a fresh TOTP secret for username.
func newEnrolment(issuer, username string) (Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: username,
		Period:      totpPeriod,
		SecretSize:  totpSecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("staff: totp: %w", err)
	}
	return Enrolment{Secret: Secret(key.Secret()), URL: Secret(key.URL())}, nil
}

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// matchTOTP returns the time step within ±totpSkew of now whose code is
// code. Every candidate is computed and compared in constant time, so the
// time taken says nothing about which step matched.
func matchTOTP(secret Secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != 6 {
		return 0, false
	}
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := totpStep(now)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		if s < 0 {
			continue
		}
		good, err := hotp.ValidateCustom(code, uint64(s), secret.Reveal(), opts)
		if err == nil && good && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// TOTPCode returns the code for secret at t: for tests and tools that act
// as an authenticator app.
func TOTPCode(secret Secret, t time.Time) (string, error) {
	code, err := totp.GenerateCodeCustom(secret.Reveal(), t, totp.ValidateOpts{
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("staff: totp code: %w", err)
	}
	return code, nil
}
