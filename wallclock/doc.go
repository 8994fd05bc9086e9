// Package wallclock reads and builds Europe/London wall-clock times: the
// zone every rota, check-in schedule and contact window is read in, and
// times that stay right across the clock changes.
package wallclock
