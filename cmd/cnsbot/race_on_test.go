//go:build race

package main

// raceSlowdown is how much slower the race detector makes the server's
// CPU-bound work (templates, JSON, XLSX): TestProvinceScale allows for it.
const raceSlowdown = 3
