package alert

// Service raises, joins, claims and resolves alerts. It is built by
// NewService and used by every intake (app, SMS, missed check-ins) and by
// the responder API.
type Service struct{}
