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

// gcBallast is a ballast of n bytes (nil for 0), to keep alive while the
// read runs.
func gcBallast(n int) []byte {
	if n <= 0 {
		return nil
	}
	return make([]byte, n)
}
