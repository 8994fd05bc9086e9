package oncall

import "waymark/pii"

// Handover is one claimed alert handed to a colleague when going off duty.
type Handover struct {
	Alert string
	// To is the colleague's username or staff id.
	To   string
	Note pii.Text
}

// HandoverResult says what became of one of the claims of someone going
// off duty.
type HandoverResult struct {
	Alert string `json:"alert"`
	// To is the new owner's staff id; empty when it was returned.
	To       string `json:"to,omitempty"`
	Returned bool   `json:"returned"`
}
