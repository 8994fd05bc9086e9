// Package sms is Waymark's Twilio adapter, and with its webhook check the
// only importer of twilio-go:
//
//   - Sender sends pages to responders (and, where a deployment enables it,
//     texts to survivors) through twilio-go's REST client, with retries
//     bounded by the caller's deadline;
//   - Verifier checks X-Twilio-Signature on webhooks against the configured
//     public URL, with the current and the previous auth token;
//   - ReadForm, ParseInbound and ParseStatus read Twilio's webhook forms
//     with a size cap, refusing anything a signature could not cover;
//   - Intake turns a verified inbound message into alert signals, using the
//     codeword grammar, the case and staff lookups and the alert service;
//   - Reply renders the one TwiML answer every sender gets.
//
// Nothing here logs a phone number or a message body: numbers are
// pii.Phone, bodies pii.Text, and errors carry Twilio's error code, never
// Twilio's message text (which can name the number).
package sms
