package airbyte

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
)

// LineError is a problem with one line of a JSONL stream. The decoder
// returns it for read failures and, in strict mode, for lines that are not
// protocol messages.
type LineError struct {
	Name string // what the stream is, e.g. a file name or "stdout of source-x"; may be empty
	Line int64  // 1-based line number
	Err  error
}

// Error renders "name:line: err".
func (e *LineError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// ErrNotProtocol is wrapped by the LineError a strict Decoder returns for a
// line that is not an AirbyteMessage.
var ErrNotProtocol = errors.New("not an Airbyte protocol message")

// Decoder reads Airbyte messages from a JSONL stream, one message per line,
// with no limit on the length of a line. Each message owns its memory: a
// record's Data stays valid after the next Decode.
//
// As the Airbyte platform does, a line that is not JSON, or JSON that is not
// an AirbyteMessage, becomes a LOG message at INFO level whose text is the
// line (unless the decoder is Strict). Blank lines are skipped. A message of
// a known type always has its payload field set (a RECORD has Record, and so
// on); messages of unknown types are returned with their members kept.
type Decoder struct {
	r      *bufio.Reader
	name   string
	strict bool
	line   int64
	buf    []byte
	err    error
	intern map[string]string
	plans  typedPlans // typed records: see enableTyped

	// What messages are carved from, so that a record costs few
	// allocations: lines are copied into a shared block (a block is freed
	// when no message of it is referenced any more), and messages come
	// with their RECORD payload from an array of boxes.
	arena []byte
	boxes []messageBox
	st    decodeState
}

// messageBox is a message and room for its record.
type messageBox struct {
	m Message
	r RecordMessage
}

// lineArena is the size of the blocks lines are copied into; longer lines
// than a sixteenth of it get their own.
const lineArena = 256 << 10

// DecoderOption configures a Decoder.
type DecoderOption func(*Decoder)

// Strict makes the decoder return a *LineError wrapping ErrNotProtocol for a
// line that is not a protocol message, instead of turning it into a LOG
// message.
func Strict() DecoderOption { return func(d *Decoder) { d.strict = true } }

// Named sets the name that errors give the stream (a file name, "stdout of
// source-postgres").
func Named(name string) DecoderOption { return func(d *Decoder) { d.name = name } }

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader, opts ...DecoderOption) *Decoder {
	d := &Decoder{r: bufio.NewReaderSize(r, 64<<10)}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Line returns the number of the line the last message came from.
func (d *Decoder) Line() int64 { return d.line }

// Decode returns the next message, or io.EOF at the end of the stream. Any
// other error is a *LineError and is returned again by later calls.
func (d *Decoder) Decode() (*Message, error) {
	if d.err != nil {
		return nil, d.err
	}
	for {
		line, err := d.readLine()
		if err != nil {
			if err != io.EOF {
				err = &LineError{Name: d.name, Line: d.line + 1, Err: err}
			}
			d.err = err
			return nil, err
		}
		d.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		m, err := d.parseLine(line)
		if err != nil {
			if d.strict {
				return nil, &LineError{Name: d.name, Line: d.line, Err: fmt.Errorf("%w: %w", ErrNotProtocol, err)}
			}
			return &Message{Type: TypeLog, Log: &LogMessage{Level: LogInfo, Message: string(line)}}, nil
		}
		return m, nil
	}
}

// Messages yields the messages up to the end of the stream; a failure ends
// the sequence with the error.
func (d *Decoder) Messages() iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		for {
			m, err := d.Decode()
			if err == io.EOF {
				return
			}
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// readLine returns the next line, which the caller owns.
func (d *Decoder) readLine() ([]byte, error) {
	for {
		frag, err := d.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			d.buf = append(d.buf, frag...)
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(d.buf) == 0 {
			if len(frag) == 0 && err == io.EOF {
				return nil, io.EOF
			}
			if len(frag) > lineArena/16 {
				return bytes.Clone(frag), nil
			}
			if cap(d.arena)-len(d.arena) < len(frag) {
				d.arena = make([]byte, 0, lineArena)
			}
			n := len(d.arena)
			d.arena = append(d.arena, frag...)
			return d.arena[n:len(d.arena):len(d.arena)], nil
		}
		// A long line: hand the accumulated buffer over rather than copy it.
		line := append(d.buf, frag...)
		d.buf = nil
		return line, nil
	}
}

// parseLine decodes one trimmed, non-empty line; data is owned by the result.
func (d *Decoder) parseLine(line []byte) (*Message, error) {
	if line[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if d.intern == nil {
		d.intern = map[string]string{}
	}
	if len(d.boxes) == 0 {
		d.boxes = make([]messageBox, 128)
	}
	b := &d.boxes[0]
	d.boxes = d.boxes[1:]
	m := &b.m
	d.st = decodeState{owned: true, intern: d.intern, plans: d.plans, record: &b.r}
	if err := m.decode(line, &d.st); err != nil {
		return nil, err
	}
	if err := m.checkPayload(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkPayload verifies that a message of a known type carries its payload.
func (m *Message) checkPayload() error {
	var ok bool
	switch m.Type {
	case TypeRecord:
		ok = m.Record != nil
	case TypeState:
		ok = m.State != nil
	case TypeLog:
		ok = m.Log != nil
	case TypeSpec:
		ok = m.Spec != nil
	case TypeConnectionStatus:
		ok = m.ConnectionStatus != nil
	case TypeCatalog:
		ok = m.Catalog != nil
	case TypeTrace:
		ok = m.Trace != nil
	case TypeControl:
		ok = m.Control != nil
	case TypeDestinationCatalog:
		ok = m.DestinationCatalog != nil
	default:
		return nil
	}
	if !ok {
		return fmt.Errorf("%s message without its payload", m.Type)
	}
	return nil
}

// Encoder writes Airbyte messages as JSONL, one Write per message. Raw JSON
// fields (a record's Data, state blobs) are written as they are: messages
// that came from a Decoder always hold valid JSON there, and so must
// messages built by hand.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an encoder writing to w. Wrap w in a bufio.Writer for
// many small messages, and flush it before a checkpoint must be visible.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes m and a newline.
func (e *Encoder) Encode(m *Message) error {
	if m == nil {
		return errors.New("airbyte: encode nil message")
	}
	b, err := m.appendJSON(e.buf[:0])
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if cap(b) <= 1<<20 {
		e.buf = b
	} else {
		e.buf = nil // do not keep a huge record's buffer
	}
	if _, err := e.w.Write(b); err != nil {
		return fmt.Errorf("airbyte: write %s message: %w", m.Type, err)
	}
	return nil
}

// enableTyped makes the decoder read the data of records of the catalog's
// streams into typed values (RecordMessage.Values; see jsontyped.go).
func (d *Decoder) enableTyped(catalog *ConfiguredCatalog) {
	if catalog != nil {
		d.plans = newTypedPlans(catalog)
	}
}
