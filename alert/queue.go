package alert

import (
	"time"
)

// OverdueAt is when an unclaimed alert counts as overdue on the queue:
// once the first step of the policy it follows has run its wait with
// nobody claiming it (raised, plus that step's wait). Zero for an alert
// whose policy has no wait to pass.
func (a *Alert) OverdueAt() time.Time {
	st, _ := a.Policy.For(levelOf(a)).StepAt(0)
	if st.Wait <= 0 {
		return time.Time{}
	}
	return a.RaisedAt.Add(st.Wait.D())
}
