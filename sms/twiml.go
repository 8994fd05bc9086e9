package sms

import (
	"bytes"
	"encoding/xml"
)

// xmlHeader starts every TwiML document.
const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>`

// Reply is the TwiML answer to every inbound message: empty (Twilio sends
// nothing back; discretion rule 1) when text is "", else exactly one
// <Message> with text. Callers pass the one configured neutral reply, so
// every sender, enrolled or not, code word or not, gets the same bytes.
func Reply(text string) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString("<Response>")
	if text != "" {
		b.WriteString("<Message>")
		xml.EscapeText(&b, []byte(text))
		b.WriteString("</Message>")
	}
	b.WriteString("</Response>")
	return b.Bytes()
}

// VoicePage is the TwiML of a voice page to a responder: the same words
// as a text page, said twice, and nothing about the survivor.
func VoicePage(team string) string {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString(`<Response><Say language="en-GB" loop="2">`)
	xml.EscapeText(&b, []byte(ResponderPage(team)))
	b.WriteString("</Say></Response>")
	return b.String()
}
