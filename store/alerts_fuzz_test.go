package store

import (
	"testing"
	"time"
	"unicode/utf8"

	"waymark/alert"
	"waymark/pii"
)

// FuzzDecodeEntry: decoding a (opened) timeline entry or trail point never
// panics, and what encodeEntry writes decodes to the same entry.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(`{"at":1795000000000,"type":"note","by":"s_abc","text":"hello"}`), "note", "hello", 50.9, -1.4)
	f.Add([]byte(`{"loc":{"lat":91,"lon":0,"acc":-1}}`), "location", "", 91.0, 0.0)
	f.Add([]byte(`{"at":"x"}`), "", "", 0.0, 0.0)
	f.Add([]byte(`null`), "raised", "\x00", -90.0, 180.0)
	f.Fuzz(func(t *testing.T, b []byte, typ, text string, lat, lon float64) {
		decodeEntry(1, b)
		decodeTrail(1, b)
		loc, err := pii.NewLocation(lat, lon, 5, time.UnixMilli(1795000000000))
		if err != nil {
			loc = pii.Location{}
		}
		e := alert.Entry{Seq: 3, At: time.UnixMilli(1795000000123), Type: alert.EntryType(typ), By: "s_x",
			Text: pii.NewText(text), Location: loc, Detail: "d"}
		got, err := decodeEntry(3, encodeEntry(e))
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !got.At.Equal(e.At) || got.Type != e.Type || !got.Text.Equal(e.Text) || !got.Location.Equal(e.Location) {
			// JSON replaces invalid UTF-8; that is the only allowed change.
			if !utf8.ValidString(text) || !utf8.ValidString(typ) {
				return
			}
			t.Fatalf("round trip changed the entry")
		}
	})
}
