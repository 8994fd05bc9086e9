//go:build timing && race

package server

// raceEnabled: load tests shrink and only report under the race detector,
// whose overhead swamps the latencies they measure.
const raceEnabled = true
