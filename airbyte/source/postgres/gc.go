package postgres

// A read allocates a few hundred bytes per row (the record's data and its
// message; the consumer's values) that die as soon as the consumer is done
// with the row, while the live heap stays a few MiB. At the default GOGC
// the collector then runs every ~10 000 rows, and at that pace it took
// 35–40 % of the client's CPU time (marking, write barriers, preemption).
// So a read holds a ballast while it runs: one pointer-free allocation
// that is never written, and so never scanned and — fresh from the OS —
// not resident. It counts as live heap, which moves the collector's goal
// up by as much: the collector runs about ten times less often, and the
// process's resident memory grows by about the ballast's size in
// not-yet-collected garbage. Any program that uses the source gets this;
// WithGCBallast(0) turns it off (for a program that tunes GOGC or
// GOMEMLIMIT itself).
//
// A consumer that releases typed records (EnableRecordRelease) makes
// almost no garbage: its records are carved out of blocks that come back
// for reuse. A ballast then only lets what little garbage there is pile up
// (the staging loader's columnar path: the Go runtime grew from ~24 to
// ~50 MiB between 1M and 10M rows, as the collector ran once in 5M rows).
// So such a read takes its ballast only once it has made
// ballastAfterBlocks blocks without reusing enough: its consumer keeps
// records after all.

// defaultGCBallast is the ballast of a read unless WithGCBallast says
// otherwise.
const defaultGCBallast = 16 << 20

// WithGCBallast sets the size of the heap ballast a read holds while it
// runs (default 16 MiB; 0: none). See the package doc.
func WithGCBallast(bytes int) Option {
	return func(s *Source) {
		if bytes >= 0 {
			s.ballast = bytes
		}
	}
}

// ballastAfterBlocks is the number of blocks a read that recycles typed
// records makes before it holds its ballast: a consumer that releases its
// records has a few blocks out at a time (the records between the source
// and the consumer's batch).
const ballastAfterBlocks = 16

// holdBallast makes the read hold its ballast until it ends.
func (rs *readStream) holdBallast() {
	if rs.ballast == nil {
		rs.ballast = gcBallast(rs.src.ballast)
		rs.ballasted = rs.ballast != nil
	}
}

// gcBallast is a ballast of n bytes (nil for 0), to keep alive while the
// read runs.
func gcBallast(n int) []byte {
	if n <= 0 {
		return nil
	}
	return make([]byte, n)
}
