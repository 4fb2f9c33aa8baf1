//go:build race

package influx

// raceEnabled reports a build with the race detector, under which sync.Pool
// drops a quarter of what is put back, so allocation counts say little.
const raceEnabled = true
