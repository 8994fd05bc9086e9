package disguise

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// TestCalculator is the calculator's table of operations: keys tapped on
// screen, at phone size, and what the display then shows.
func TestCalculator(t *testing.T) {
	chrome := testenv.StartChrome(t)
	srv, api := newServer(t)
	p := openPhone(t, chrome, srv, api, 1, "/")
	tests := []struct {
		keys, want string
	}{
		{"", "0"},
		{"7", "7"},
		{"1 2 3", "123"},
		{"2 + 3 =", "5"},
		{"2 + 3 × 4 =", "14"}, // order of operations, as iOS and Android
		{"2 + 3 ×", "3"},
		{"2 + 3 × 4 +", "14"},
		{"3 + 5 × 2 − 4 ÷ 2 =", "11"},
		{"7 − 1 0 =", "-3"},
		{"0 . 1 + 0 . 2 =", "0.3"},
		{"0 . 1 + 0 . 2 − 0 . 3 =", "0"},
		{"1 . 1 × 1 . 1 =", "1.21"},
		{"0 . 1 × 3 =", "0.3"},
		{". 5 + . 5 =", "1"},
		{"1 ÷ 3 =", "0.33333333333"},
		{"2 ÷ 3 =", "0.66666666667"},
		{"1 ÷ 3 × 3 =", "1"},
		{"1 ÷ 0 =", "Error"},
		{"1 ÷ 0 = 5", "5"},
		{"0 ÷ 0 =", "Error"},
		{"5 0 %", "0.5"},
		{"2 0 0 + 1 0 % =", "220"},
		{"2 0 0 − 1 0 % =", "180"},
		{"5 0 × 1 0 % =", "5"},
		{"5 ±", "-5"},
		{"5 ± + 2 =", "-3"},
		{"2 × 3 = =", "18"},
		{"2 + 3 = 4 =", "7"},
		{"5 × =", "25"},
		{"8 ÷ 2 × ÷ 2 =", "2"}, // a second operator replaces the first
		{"1 2 3 4 5 6 7 8 9 0 1 2 3", "123456789012"},
		{"1 2 3 ⌫", "12"},
		{"1 ⌫", "0"},
		{"1 2 3 C", "0"},
		{"5 + 2 C 3 =", "8"}, // C clears the number typed, not the sum
		{"9 9 9 9 9 9 9 9 9 9 9 9 + 1 =", "1e12"},
		{"1 2 3 4 5 6 7 8 9 × 1 2 3 4 5 6 7 8 9 =", "1.524158e16"},
		{"1 0 0 0 0 0 0 × 1 0 0 0 0 0 0 =", "1e12"},
		{"0 . 0 0 0 0 0 1 × 0 . 0 0 0 0 0 1 =", "1e-12"},
		{"0 . 0 0 0 1 ÷ 8 =", "0.0000125"},
		{"1 . 5 . 5", "1.55"},
		{"0 0 0 7", "7"},
		{"1 2 . 5 0", "12.50"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.keys, " ", ""), func(t *testing.T) {
			p.T = t
			p.Tap("AC AC")
			if tt.keys != "" {
				p.Tap(tt.keys)
			}
			if got := p.Display(); got != tt.want {
				t.Errorf("%s: display = %q, want %q", tt.keys, got, tt.want)
			}
		})
	}
}

// TestCalculatorKeyboard: a keyboard works too.
func TestCalculatorKeyboard(t *testing.T) {
	chrome := testenv.StartChrome(t)
	srv, api := newServer(t)
	p := openPhone(t, chrome, srv, api, 1, "/")
	tests := []struct{ keys, want string }{
		{"12+7=", "19"},
		{"2+3*4\r", "14"},
		{"9/4=", "2.25"},
		{"100-1%=", "99"},
		{"12\b5=", "15"},
	}
	for _, tt := range tests {
		p.Do(10*time.Second, chromedp.KeyEvent("\u007f"), chromedp.KeyEvent("\u007f"), chromedp.KeyEvent(tt.keys))
		if got := p.Display(); got != tt.want {
			t.Errorf("%q: display = %q, want %q", tt.keys, got, tt.want)
		}
	}
}
