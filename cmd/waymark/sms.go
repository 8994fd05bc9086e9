package main

import (
	"context"
	"log/slog"

	"waymark/config"
	"waymark/pii"
	"waymark/server"
	"waymark/sms"
)

// newSMSSender is Twilio's outbound side (pages, texts to survivors,
// directory answers) when an auth token is configured, nil otherwise.
// Credentials go to twilio-go explicitly; nothing reads TWILIO_* from the
// environment.
func newSMSSender(cfg *config.Config, log *slog.Logger) (*sms.Sender, error) {
	if cfg.TwilioAuthToken == "" {
		return nil, nil
	}
	return sms.NewSender(sms.SenderConfig{
		AccountSID:          cfg.TwilioAccountSID,
		AuthToken:           cfg.TwilioAuthToken,
		From:                cfg.TwilioFrom,
		MessagingServiceSID: cfg.TwilioMessagingServiceSID,
		SurvivorFrom:        cfg.TwilioSurvivorFrom,
		DirectoryFrom:       cfg.TwilioDirectoryNumber,
		PublicURL:           cfg.PublicURL,
		APIURL:              cfg.TwilioAPIURL,
		Logger:              log.With("component", "twilio"),
	})
}

// buildSMSHooks wires Twilio's webhooks when an auth token is configured
// (nothing can be verified without one, so the routes stay off): the
// intake over the cases and alerts, the delivery reports, and the
// directory number's answers through sender.
func (a *app) buildSMSHooks(sender *sms.Sender) (*server.SMS, error) {
	cfg := a.cfg
	if cfg.TwilioAuthToken == "" {
		return nil, nil
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
		return nil, err
	}
	hooks := &server.SMS{
		Verifier: sms.NewVerifier(cfg.PublicURL, cfg.TwilioAuthToken, cfg.TwilioPreviousAuthToken),
		Intake:   intake,
		Statuses: a.store.SMSStatuses,
		Reply:    cfg.SMSReply,
	}
	if n := cfg.TwilioDirectoryNumber; n != "" {
		hooks.Directory = &server.DirectoryText{Number: n, Answer: func(ctx context.Context, to pii.Phone, body string) error {
			_, err := sender.TextDirectoryAnswer(ctx, to, body)
			return err
		}}
	}
	return hooks, nil
}
