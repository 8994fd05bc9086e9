package sms

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"waymark/pii"
)

// MaxForm caps a webhook body. Twilio's inbound form is a few hundred
// bytes plus the body: 1,600 characters of Urdu are about 3 KiB raw and
// three times that percent-encoded, and ten media URLs add 2 KiB.
const MaxForm = 32 << 10

// maxFields caps the number of parameters: Twilio sends about 30, plus
// two per media item (at most 10).
const maxFields = 256

// Errors of the form parser. None quotes the form.
var (
	ErrFormTooLarge = errors.New("sms: form larger than 32 KiB")
	ErrFormSyntax   = errors.New("sms: malformed form")
	// ErrFormRepeated: a parameter appears twice. twilio-go's validator
	// signs one value per name, so a repeated name could smuggle a value
	// the signature does not cover; Twilio never repeats a name.
	ErrFormRepeated = errors.New("sms: repeated form parameter")
	// ErrFormField: a field Twilio always sends is missing or malformed.
	ErrFormField = errors.New("sms: missing or malformed field")
)

// ReadForm reads an application/x-www-form-urlencoded body of at most
// MaxForm bytes and parses it with ParseForm.
func ReadForm(r io.Reader) (map[string]string, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxForm+1))
	if err != nil {
		return nil, fmt.Errorf("sms: read form: %w", err)
	}
	if len(b) > MaxForm {
		return nil, ErrFormTooLarge
	}
	return ParseForm(string(b))
}

// ParseForm parses a urlencoded form strictly: "&"-separated name=value
// pairs ("+" is a space), every name at most once, at most 256 pairs.
// Values are kept byte-exact (no trimming, no Unicode normalisation):
// the signature is over them, and bodies are stored as sent.
func ParseForm(s string) (map[string]string, error) {
	if len(s) > MaxForm {
		return nil, ErrFormTooLarge
	}
	form := make(map[string]string, 32)
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		if len(form) == maxFields {
			return nil, fmt.Errorf("%w: more than %d parameters", ErrFormSyntax, maxFields)
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, fmt.Errorf("%w: bad escape in a name", ErrFormSyntax)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("%w: bad escape in a value", ErrFormSyntax)
		}
		if name == "" {
			return nil, fmt.Errorf("%w: empty name", ErrFormSyntax)
		}
		if _, dup := form[name]; dup {
			return nil, ErrFormRepeated
		}
		form[name] = value
	}
	return form, nil
}

// maxMedia is the most media items Twilio attaches to one message.
const maxMedia = 10

// Inbound is a message a survivor (or anyone) sent to a Waymark number.
type Inbound struct {
	// MessageSID is Twilio's id of the message (SM or MM + 32 hex), the
	// dedupe key: retries and fallback deliveries carry the same one.
	MessageSID string
	AccountSID string
	// From is the sender; zero when the sender is not a phone number
	// (an alphanumeric sender id or a short code): such a sender is
	// unknown, never matched to a case.
	From pii.Phone
	// To is the Waymark number the message was sent to.
	To string
	// Body is the text exactly as received: maybe empty, any script.
	Body pii.Text
	// Media are references to attachments held by Twilio; Waymark never
	// downloads them by itself.
	Media []Media
}

// Media is one attachment reference. The URL can reach the survivor's
// picture, so it is personal data.
type Media struct {
	URL         pii.Text
	ContentType string
}

// ParseInbound reads Twilio's inbound-message form.
func ParseInbound(form map[string]string) (Inbound, error) {
	in := Inbound{
		MessageSID: form["MessageSid"],
		AccountSID: form["AccountSid"],
		To:         form["To"],
		Body:       pii.NewText(form["Body"]),
	}
	if !validSID(in.MessageSID, "SM", "MM") {
		return Inbound{}, fmt.Errorf("%w: MessageSid", ErrFormField)
	}
	if from := form["From"]; from != "" {
		// Twilio reports the sender in E.164; ParseE164 takes that as it
		// is (the full numbering-plan check is most of a webhook's work).
		if p, err := pii.ParseE164(from); err == nil {
			in.From = p
		}
	}
	if raw, ok := form["NumMedia"]; ok && raw != "0" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > maxMedia {
			return Inbound{}, fmt.Errorf("%w: NumMedia", ErrFormField)
		}
		for i := range n {
			u := form["MediaUrl"+strconv.Itoa(i)]
			if u == "" {
				return Inbound{}, fmt.Errorf("%w: MediaUrl%d", ErrFormField, i)
			}
			in.Media = append(in.Media, Media{URL: pii.NewText(u), ContentType: form["MediaContentType"+strconv.Itoa(i)]})
		}
	}
	return in, nil
}

// validSID reports whether s is one of the prefixes followed by 32
// lower-case hex digits, as Twilio's SIDs are.
func validSID(s string, prefixes ...string) bool {
	if len(s) != 34 {
		return false
	}
	ok := false
	for _, p := range prefixes {
		ok = ok || s[:2] == p
	}
	if !ok {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Status is a delivery-status callback for a message Waymark sent.
type Status struct {
	MessageSID string
	State      DeliveryState
	// ErrorCode is Twilio's error code for a failed or undelivered
	// message (30003 unreachable, 30005 unknown, 21610 unsubscribed, …).
	ErrorCode int
}

// ParseStatus reads Twilio's status-callback form.
func ParseStatus(form map[string]string) (Status, error) {
	st := Status{MessageSID: form["MessageSid"], State: DeliveryState(form["MessageStatus"])}
	if !validSID(st.MessageSID, "SM", "MM") {
		return Status{}, fmt.Errorf("%w: MessageSid", ErrFormField)
	}
	if st.State.Rank() == 0 {
		return Status{}, fmt.Errorf("%w: MessageStatus", ErrFormField)
	}
	if raw := form["ErrorCode"]; raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > 999999 {
			return Status{}, fmt.Errorf("%w: ErrorCode", ErrFormField)
		}
		st.ErrorCode = n
	}
	return st, nil
}

// DeliveryState is a Twilio message status.
type DeliveryState string

// Delivery states of an outbound message, in the order they can happen.
const (
	StateAccepted    DeliveryState = "accepted"
	StateScheduled   DeliveryState = "scheduled"
	StateQueued      DeliveryState = "queued"
	StateSending     DeliveryState = "sending"
	StateSent        DeliveryState = "sent"
	StateDelivered   DeliveryState = "delivered"
	StateUndelivered DeliveryState = "undelivered"
	StateFailed      DeliveryState = "failed"
	StateCanceled    DeliveryState = "canceled"
	StateRead        DeliveryState = "read"
)

// Rank orders states by finality: a callback only ever moves a message to
// a higher rank, so repeats and out-of-order callbacks are harmless. The
// final states share rank 4 (the first one stored wins), except "read",
// which only follows "delivered". Unknown states rank 0.
func (d DeliveryState) Rank() int {
	switch d {
	case StateAccepted, StateScheduled, StateQueued:
		return 1
	case StateSending:
		return 2
	case StateSent:
		return 3
	case StateDelivered, StateUndelivered, StateFailed, StateCanceled:
		return 4
	case StateRead:
		return 5
	}
	return 0
}

// Failed reports whether d means the text did not reach the phone.
func (d DeliveryState) Failed() bool {
	return d == StateUndelivered || d == StateFailed || d == StateCanceled
}

// Why says in plain words why a text was not delivered, for the alert's
// timeline: Twilio's error code where it names a reason, else the status.
func (s Status) Why() string {
	switch s.ErrorCode {
	case 30003:
		return "the phone is off or out of reach"
	case 30004:
		return "the number blocks texts"
	case 30005:
		return "the number does not exist"
	case 30006:
		return "a landline, or a network that cannot take texts"
	case 30007:
		return "the network filtered it"
	case 30008:
		return "the network gave no reason"
	case 21610:
		return "the number texted STOP to the page number"
	}
	if s.ErrorCode != 0 {
		return fmt.Sprintf("%s, provider error %d", s.State, s.ErrorCode)
	}
	return string(s.State)
}
