//go:build !race

package influx

// raceEnabled reports a build with the race detector (see race_test.go).
const raceEnabled = false
