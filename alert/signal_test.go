package alert

import (
	"errors"
	"strings"
	"testing"
	"time"

	"waymark/pii"
	"waymark/problem"
)

func TestSignalValidateMessages(t *testing.T) {
	base := func(src Source, msg string, media int) Signal {
		return Signal{Source: src, Kind: KindMessage, CaseID: "c_abcdefghijkmnpqrstuv", Message: pii.NewText(msg),
			Media: media, At: time.Unix(1_700_000_000, 0), DedupeKey: "x"}
	}
	tests := []struct {
		name string
		sig  Signal
		want string // the field refused, "" for valid
	}{
		{"app text", base(SourceApp, "he is back", 0), ""},
		{"app empty", base(SourceApp, "", 0), "message"},
		{"sms empty", base(SourceSMS, "", 0), ""},
		{"sms media only", base(SourceSMS, "", 3), ""},
		{"sms 1600 four-byte characters", base(SourceSMS, strings.Repeat("😀", 1600), 0), ""},
		{"sms 1600 Urdu characters", base(SourceSMS, strings.Repeat("مدد", 533)+"م", 0), ""},
		{"longer than any SMS", base(SourceSMS, strings.Repeat("x", MaxMessage+1), 0), "message"},
		{"too many attachments", base(SourceSMS, "", MaxMedia+1), "media"},
		{"negative attachments", base(SourceSMS, "", -1), "media"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sig.Validate()
			got := ""
			var inv *problem.Invalid
			if errors.As(err, &inv) && len(inv.Fields) > 0 {
				got = inv.Fields[0].Name
			} else if err != nil {
				t.Fatalf("error %v, want *problem.Invalid", err)
			}
			if got != tc.want {
				t.Errorf("refused field %q, want %q (err %v)", got, tc.want, err)
			}
		})
	}
	if MaxMessage < 6400 {
		t.Errorf("MaxMessage %d: 1,600 characters of four bytes need 6,400", MaxMessage)
	}
}
