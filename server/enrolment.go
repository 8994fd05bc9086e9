package server

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"rsc.io/qr"

	"waymark/problem"
)

// An app enrolment answers, beside the code, a link to the disguised app
// with the code in the URL fragment (a fragment never reaches a server or
// its logs, and the app removes it from the history at once) and the
// link's QR code, drawn here: no third-party service sees the code.

// appLook is the disguise the caseworker chose with the survivor: which
// app the phone shows, its name and its icon. It rides in the link's
// fragment too, so the server keeps nothing of it.
type appLook struct {
	Kind string `json:"kind" validate:"omitempty,oneof=calculator converter"`
	Name string `json:"name" validate:"omitempty,max=20"`
	// Icon is one of the app's icons: 1 dark keypad, 2 orange
	// calculator, 3 green arrows.
	Icon string `json:"icon" validate:"omitempty,oneof=1 2 3"`
}

var lookNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ]*$`)

// check refuses a name or icon the app could not show as given.
func (l *appLook) check() error {
	if l == nil {
		return nil
	}
	inv := &problem.Invalid{}
	if l.Name != "" && !lookNameRE.MatchString(l.Name) {
		inv.Add("look.name", "must be letters, digits and spaces")
	}
	return inv.Err()
}

// enrolmentLink is the app link for code, or "" without an app URL.
func enrolmentLink(appURL, code string, l *appLook) string {
	if appURL == "" {
		return ""
	}
	frag := code
	if l != nil && *l != (appLook{}) {
		v := url.Values{"c": {code}}
		if l.Kind != "" {
			v.Set("look", l.Kind)
		}
		if l.Name != "" {
			v.Set("name", l.Name)
		}
		if l.Icon != "" {
			v.Set("icon", l.Icon)
		}
		frag = strings.ReplaceAll(v.Encode(), "+", "%20")
	}
	return strings.TrimRight(appURL, "/") + "/#" + frag
}

// qrSVG draws text as a QR code (error correction M, a quiet zone of four
// modules) in SVG: one path of unit squares, crisp at any size.
func qrSVG(text string) (string, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("server: draw QR code: %w", err)
	}
	const quiet = 4
	n := c.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := range c.Size {
		for x := range c.Size {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}
