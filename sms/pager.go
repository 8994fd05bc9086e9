package sms

import (
	"context"
	"errors"
	"fmt"

	"waymark/outbox"
	"waymark/pii"
)

// Pager is the outbox's pager on Twilio: a page either goes out, is
// refused for good (the next channel is tried at once), or stays
// undelivered until the caller's deadline. Both error kinds keep the
// sender's own error too, so errors.Is(err, ErrUnsubscribed) still tells a
// 21610 apart.
type Pager struct {
	// Sender sends from the page number; nil refuses every page.
	Sender *Sender
}

var _ outbox.Pager = Pager{}

// Text sends body (which must carry no survivor detail; see
// outbox.PageText) from the page number and returns Twilio's id for it.
func (p Pager) Text(ctx context.Context, to pii.Phone, body string) (string, error) {
	if p.Sender == nil {
		return "", fmt.Errorf("%w: twilio not configured", outbox.ErrPageRefused)
	}
	sid, err := p.Sender.Send(ctx, Page{To: to, Body: body})
	return sid, pageError(err)
}

// Call places a voice page that says words (see outbox.VoiceWords) and
// asks for a press of 1, and returns Twilio's id for the call.
func (p Pager) Call(ctx context.Context, to pii.Phone, words string) (string, error) {
	if p.Sender == nil {
		return "", fmt.Errorf("%w: twilio not configured", outbox.ErrPageRefused)
	}
	sid, err := p.Sender.Call(ctx, to, words)
	return sid, pageError(err)
}

// pageError maps the sender's errors (which carry Twilio codes, never
// numbers) onto the outbox's two kinds: the refusals retrying cannot help,
// and everything else, which counts as undelivered.
func pageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnsubscribed), errors.Is(err, ErrBadNumber), errors.Is(err, ErrRejected),
		errors.Is(err, ErrNotAllowed), errors.Is(err, ErrNotConfigured):
		return fmt.Errorf("%w: %w", outbox.ErrPageRefused, err)
	}
	return fmt.Errorf("%w: %w", outbox.ErrPageUndelivered, err)
}
