package alert

import (
	"testing"

	"waymark/casework"
)

func TestLevelOf(t *testing.T) {
	for _, tc := range []struct {
		a    Alert
		want casework.Risk
	}{
		{Alert{Class: ClassDuress, Risk: casework.RiskStandard}, casework.RiskHigh},
		{Alert{Class: ClassPanic, Risk: casework.RiskMedium}, casework.RiskMedium},
		{Alert{Class: ClassMessage}, casework.RiskStandard},
	} {
		if got := levelOf(&tc.a); got != tc.want {
			t.Errorf("levelOf(%v %q) = %s, want %s", tc.a.Class, tc.a.Risk, got, tc.want)
		}
	}
}
