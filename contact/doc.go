// Package contact rings and texts survivors through Waymark, only when the
// contact verdict at that moment allows it (discretion rule 4).
//
// A call through Waymark rings the responder's own phone from the page
// number and, once they answer, connects them to the survivor from the
// survivor-facing number: the survivor never sees a personal number and
// the responder never needs the survivor's. A text sends only the case's
// agreed wording, from the survivor-facing number. Only the responder who
// holds the alert's claim may do either; each attempt, allowed or refused,
// goes to the audit trail with the verdict, and each contact made goes on
// the alert's timeline as the owner's progress.
package contact
