package main

import (
	"context"

	"waymark/pii"
	"waymark/server"
	"waymark/sms"
)

// buildSMS wires Twilio: the webhooks when an auth token is configured
// (nothing can be verified without one, so the routes stay off), and the
// sender when the account is. Credentials go to twilio-go explicitly;
// nothing reads TWILIO_* from the environment.
func (a *app) buildSMS() error {
	cfg := a.cfg
	if cfg.TwilioAuthToken == "" {
		return nil
	}
	intake, err := sms.NewIntake(sms.IntakeConfig{
		Cases:      a.cases,
		Alerts:     a.alerts,
		Staff:      a.staff,
		Postcodes:  a.postcodes,
		TriageTeam: cfg.TriageTeam,
		CodeWords:  cfg.SMSCodeWords,
		Now:        a.now,
		Logger:     a.log.With("component", "sms"),
	})
	if err != nil {
		return err
	}
	a.smsHooks = &server.SMS{
		Verifier: sms.NewVerifier(cfg.PublicURL, cfg.TwilioAuthToken, cfg.TwilioPreviousAuthToken),
		Intake:   intake,
		Statuses: a.store.SMSStatuses,
		Reply:    cfg.SMSReply,
	}
	a.smsSender, err = sms.NewSender(sms.SenderConfig{
		AccountSID:          cfg.TwilioAccountSID,
		AuthToken:           cfg.TwilioAuthToken,
		From:                cfg.TwilioFrom,
		MessagingServiceSID: cfg.TwilioMessagingServiceSID,
		SurvivorFrom:        cfg.TwilioSurvivorFrom,
		DirectoryFrom:       cfg.TwilioDirectoryNumber,
		PublicURL:           cfg.PublicURL,
		APIURL:              cfg.TwilioAPIURL,
		Logger:              a.log.With("component", "twilio"),
	})
	if err != nil {
		return err
	}
	if n := cfg.TwilioDirectoryNumber; n != "" {
		sender := a.smsSender
		a.smsHooks.Directory = &server.DirectoryText{Number: n, Answer: func(ctx context.Context, to pii.Phone, body string) error {
			_, err := sender.TextDirectoryAnswer(ctx, to, body)
			return err
		}}
	}
	return nil
}
