package sms

import (
	"bytes"
	"encoding/xml"
	"errors"
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

// VoicePage is the TwiML of a voice page: words (the page's neutral
// words, nothing about the survivor) said twice inside a gather for one
// key, whose press Twilio posts to action. With no key pressed the call
// says so and ends; its status callback then moves the escalation on.
func VoicePage(words, action string) (string, error) {
	if words == "" || action == "" {
		return "", errors.New("sms: a voice page needs its words and its action URL")
	}
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString(`<Response><Gather input="dtmf" numDigits="1" timeout="8" method="POST" action="`)
	xml.EscapeText(&b, []byte(action))
	b.WriteString(`">`)
	say(&b, words)
	b.WriteString(`<Pause length="1"/>`)
	say(&b, words)
	b.WriteString(`</Gather>`)
	say(&b, "No key was pressed. Goodbye.")
	b.WriteString(`<Hangup/></Response>`)
	return b.String(), nil
}

// VoiceAnswer is the TwiML that answers a key press on a voice page: it
// says said and ends the call.
func VoiceAnswer(said string) (string, error) {
	if said == "" {
		return "", errors.New("sms: a voice answer needs its words")
	}
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString("<Response>")
	say(&b, said)
	b.WriteString("<Hangup/></Response>")
	return b.String(), nil
}

// say writes one <Say> of text in British English.
func say(b *bytes.Buffer, text string) {
	b.WriteString(`<Say language="en-GB">`)
	xml.EscapeText(b, []byte(text))
	b.WriteString(`</Say>`)
}

// ConnectingWords are all a responder hears on a call through Waymark
// before the survivor's phone rings: they name nobody and say nothing
// about the survivor.
const ConnectingWords = "Waymark. Connecting you now."

// MaskedCall is the TwiML that joins a responder, once they answer, to
// the survivor: the survivor's phone shows callerID (the survivor-facing
// number), never the responder's own, and the responder hears only
// ConnectingWords.
func MaskedCall(callerID, survivor string) (string, error) {
	if callerID == "" || survivor == "" {
		return "", errors.New("sms: a call through Waymark needs the survivor-facing number and the survivor's")
	}
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString("<Response>")
	say(&b, ConnectingWords)
	b.WriteString(`<Dial callerId="`)
	xml.EscapeText(&b, []byte(callerID))
	b.WriteString(`"><Number>`)
	xml.EscapeText(&b, []byte(survivor))
	b.WriteString(`</Number></Dial></Response>`)
	return b.String(), nil
}
