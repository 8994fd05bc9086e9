// Package outbox is the page runner: it reads the pages escalation queues
// in the outbox stream, checks each is still wanted just before sending,
// sends it through the one Pager (package sms on Twilio) or web push within
// its budget, and reports the outcome to the alert. It also holds the one
// page text and voice script, which name the team and nothing about the
// survivor. It declares the Store, Pager and WebPusher it needs; adapters
// implement them.
package outbox
