package alert

// Cases enrols, updates, renews, reveals and erases survivors' cases.
type Cases struct{}
