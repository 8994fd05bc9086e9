package outbox

import (
	"context"
	"errors"
	"fmt"

	"waymark/alert"
	"waymark/pii"
	"waymark/problem"
)

// Errors a Pager or a WebPusher returns.
var (
	// ErrPageRefused is a final refusal: the number unsubscribed (Twilio
	// 21610), cannot take texts, or the request was rejected. Retrying
	// cannot help; the next channel is tried at once.
	ErrPageRefused = errors.New("alert: page refused")
	// ErrPageUndelivered means the provider could not be reached, or kept
	// failing, until the page's budget ran out.
	ErrPageUndelivered = fmt.Errorf("alert: page undelivered: %w", problem.ErrUnavailable)
)

// Pager sends texts and places calls (package sms implements it on
// Twilio). Errors wrap ErrPageRefused (final) or ErrPageUndelivered (the
// provider kept failing until ctx ended).
type Pager interface {
	// Text sends body and returns the provider's id of the text, so its
	// delivery report can be followed.
	Text(ctx context.Context, to pii.Phone, body string) (sid string, err error)
	// Call places a voice page that says words and asks for a press of
	// 1, reported with the call's status to the webhooks; it returns the
	// provider's id of the call.
	Call(ctx context.Context, to pii.Phone, words string) (sid string, err error)
}

// WebPusher sends a browser push notification to a staff member's
// subscribed browsers. Errors as for Pager.
type WebPusher interface {
	Push(ctx context.Context, staffID, team, label string) error
}

// PageText is the text of a page. It names the team and nothing about the
// survivor (discretion rule 4). A drill's page says DRILL first and last,
// so nobody mistakes it for a real alert nor a real one for a drill.
func PageText(team string, fallback bool, mode alert.Mode) string {
	text := "Waymark: urgent alert for team " + team + ". Open the dashboard."
	if fallback {
		text = "Waymark: an urgent alert for team " + team + " has had no answer from its on-call staff. Please follow your Waymark out-of-hours procedure."
	}
	if l := mode.Label(); l != "" {
		text = l + ". " + text + " This is a " + l + "."
	}
	return text
}

// VoiceWords are what a voice page says: the text page's neutral words,
// naming the team and nothing about the survivor, and how to take it.
// The pager says them inside a gather for the one key that counts.
func VoiceWords(team string, fallback bool, mode alert.Mode) string {
	if fallback {
		return PageText(team, fallback, mode) + " Press 1 to confirm you have it."
	}
	return PageText(team, fallback, mode) + " Press 1 to take this alert."
}
