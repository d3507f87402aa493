package postgres

import (
	"errors"
	"fmt"

	"github.com/dataopskit/dataops/airbyte"
)

// ErrInvalidCatalog is wrapped by errors about a configured catalog that
// does not fit the database (a missing stream or cursor column, a sync mode
// the stream does not support).
var ErrInvalidCatalog = errors.New("postgres source: invalid configured catalog")

// StreamNotFoundError reports a configured stream that is not a readable
// table or view of the configured schemas.
type StreamNotFoundError struct {
	Stream airbyte.StreamDescriptor
}

// Error names the stream.
func (e *StreamNotFoundError) Error() string {
	return fmt.Sprintf("postgres source: configured stream %s does not exist (or is not readable) in the configured schemas", e.Stream)
}

// Unwrap makes errors.Is(err, ErrInvalidCatalog) true.
func (e *StreamNotFoundError) Unwrap() error { return ErrInvalidCatalog }

// ErrResyncRequired is wrapped by CDC errors after which incremental reading
// cannot go on without losing changes. To resync, read again with no state
// (or with the GLOBAL state removed): the source then takes a new initial
// snapshot of every CDC stream, creating the slot again if it is gone, and
// the destination should overwrite what it holds for those streams.
var ErrResyncRequired = errors.New("postgres source: CDC state cannot be resumed; resync with empty state")

// SlotLostError reports that the replication slot a CDC state depends on no
// longer exists or was invalidated (wal_status lost), so changes since the
// state's LSN are gone. It wraps ErrResyncRequired.
type SlotLostError struct {
	Slot   string
	Reason string // "missing" or "invalidated"
}

// Error names the slot and says why it cannot be used.
func (e *SlotLostError) Error() string {
	return fmt.Sprintf("postgres source: replication slot %q is %s; changes since the saved state are lost (%v)", e.Slot, e.Reason, ErrResyncRequired)
}

// Unwrap makes errors.Is(err, ErrResyncRequired) true.
func (e *SlotLostError) Unwrap() error { return ErrResyncRequired }

// LSNBehindSlotError reports a CDC state whose LSN is older than the slot's
// confirmed_flush_lsn: the server has discarded the changes in between. It
// wraps ErrResyncRequired.
type LSNBehindSlotError struct {
	Slot           string
	StateLSN       string
	ConfirmedFlush string
}

// Error gives both positions.
func (e *LSNBehindSlotError) Error() string {
	return fmt.Sprintf("postgres source: saved LSN %s is behind replication slot %q (confirmed_flush_lsn %s); changes in between are lost (%v)", e.StateLSN, e.Slot, e.ConfirmedFlush, ErrResyncRequired)
}

// Unwrap makes errors.Is(err, ErrResyncRequired) true.
func (e *LSNBehindSlotError) Unwrap() error { return ErrResyncRequired }
