package sms

import (
	"context"
	"errors"
	"fmt"

	"waymark/alert"
	"waymark/pii"
)

// Pager adapts a Sender to the escalation's alert.Pager: a page either
// goes out, is refused for good (the next channel is tried at once), or
// stays undelivered until the caller's deadline. Both error kinds keep
// the sender's own error too, so errors.Is(err, ErrUnsubscribed) still
// tells a 21610 apart.
type Pager struct {
	Sender *Sender
}

var _ alert.Pager = Pager{}

// Text sends body (which must carry no survivor detail; see
// ResponderPage) from the page number.
func (p Pager) Text(ctx context.Context, to pii.Phone, body string) error {
	_, err := p.Sender.Send(ctx, Page{To: to, Body: body})
	return pageError(err)
}

// Call places a voice page that says words and asks for a press of 1.
func (p Pager) Call(ctx context.Context, to pii.Phone, words string) (string, error) {
	sid, err := p.Sender.Call(ctx, to, words)
	return sid, pageError(err)
}

func pageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUndelivered):
		return fmt.Errorf("%w: %w", alert.ErrPageUndelivered, err)
	default:
		// Unsubscribed, a number that cannot take texts, a refusal, a
		// missing setting: retrying cannot help.
		return fmt.Errorf("%w: %w", alert.ErrPageRefused, err)
	}
}
