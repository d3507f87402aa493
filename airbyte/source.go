package airbyte

import (
	"context"
	"encoding/json"
	"iter"
)

// Source is anything that extracts data by the Airbyte protocol: a native Go
// source running in-process, a connector executable or image, or an Airbyte
// server. Everything downstream consumes the one message stream Read returns.
type Source interface {
	// Spec describes the source and the JSON schema of its config.
	Spec(ctx context.Context) (*ConnectorSpecification, error)
	// Check tries the config and reports whether the source can connect.
	Check(ctx context.Context, config json.RawMessage) (*ConnectionStatus, error)
	// Discover lists the streams the config gives access to.
	Discover(ctx context.Context, config json.RawMessage) (*Catalog, error)
	// Read starts reading the configured streams from state (nil: from the
	// start). Messages flow through the returned ReadStream at the pace its
	// consumer takes them; cancelling ctx stops the source.
	Read(ctx context.Context, config json.RawMessage, catalog *ConfiguredCatalog, state []StateMessage) (ReadStream, error)
}

// ReadStream is a running read.
type ReadStream interface {
	// Messages yields the source's messages in order. The source produces the
	// next message only when the loop asks for it (backpressure); breaking
	// out of the loop stops the source. A failure ends the sequence with an
	// error.
	Messages() iter.Seq2[*Message, error]
	// Ack tells the source that the consumer has durably committed
	// everything up to and including state, a STATE message it yielded.
	// Sources that hold resources until then release them (a CDC source
	// confirms the state's LSN to PostgreSQL only now); others ignore it.
	Ack(ctx context.Context, state *StateMessage) error
	// Close stops the source and releases what it holds. It is safe to call
	// more than once and after Messages has ended.
	Close() error
}
