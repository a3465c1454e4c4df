// Package faults proves that cnsbot keeps its promises when what it stands
// on fails: every event answered, none answered twice, no conversation
// started over, no reminder lost or doubled.
//
// It is a new top-level folder because it is a new kind of thing: a test
// suite that runs the built service as a child process against its own
// Redis and PostgreSQL (started by the tests on free ports, with Redis's
// append-only file fsynced on every write, as production runs it), so that
// it can restart them, kill the service, and make the fake Zalo fail,
// without touching the machine's shared instances.
//
//	go test -count=1 -v ./faults/                      # the whole suite, about 5 minutes; -v shows the summary table
//	go test -count=1 -v -run 'TestFaults/redis' ./faults/
//	scripts/soak.sh                                    # TestSoak: 10 minutes under steady load
//	go test -count=1 -v -run TestZaloModes ./faults/   # lists refused, transaction refused, setup fault
//	CNSBOT_ZALOTEST_MODE=lists-refused go test -count=1 ./faults/   # the whole suite against that Zalo
//
// The load comes from faults/loadgen. Each scenario's length and load are
// set with FAULTS_RATE (events/s, 60), FAULTS_USERS (120), FAULTS_LOAD
// (15s), FAULTS_OUTAGE (3s), FAULTS_DRAIN (90s), FAULTS_SETTLE (2s) and
// FAULTS_LEADERS (40); TestZaloModes' with FAULTS_MODE_LOAD (8s) and
// FAULTS_MODE_LEADERS (20); the reminder fan-out with FAULTS_FANOUT_N (10000)
// and FAULTS_FANOUT_RATE (500). FAULTS_REDIS_SERVER and FAULTS_PG_BIN
// point at other binaries; FAULTS_KEEP keeps the data directories.
// Without redis-server or the PostgreSQL server binaries the tests skip,
// except under CI, where they fail.
package faults
