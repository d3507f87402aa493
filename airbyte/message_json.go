package airbyte

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The envelope and RECORD messages are by far the most frequent, so they have
// hand-written codecs: one pass over the bytes, record data sliced rather
// than decoded.

// MarshalJSON encodes m as one JSON object, unknown members included.
func (m Message) MarshalJSON() ([]byte, error) {
	return m.appendJSON(make([]byte, 0, 256))
}

func (m *Message) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"type":`...)
	dst = AppendJSONString(dst, string(m.Type))
	var err error
	if m.Record != nil {
		dst = append(dst, `,"record":`...)
		if dst, err = m.Record.appendJSON(dst); err != nil {
			return nil, err
		}
	}
	for _, f := range [...]struct {
		name string
		v    json.Marshaler
		set  bool
	}{
		{"log", m.Log, m.Log != nil},
		{"spec", m.Spec, m.Spec != nil},
		{"connectionStatus", m.ConnectionStatus, m.ConnectionStatus != nil},
		{"catalog", m.Catalog, m.Catalog != nil},
		{"state", m.State, m.State != nil},
		{"trace", m.Trace, m.Trace != nil},
		{"control", m.Control, m.Control != nil},
		{"destination_catalog", m.DestinationCatalog, m.DestinationCatalog != nil},
	} {
		if !f.set {
			continue
		}
		b, err := f.v.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("airbyte: encode %s message: %w", m.Type, err)
		}
		dst = append(dst, ',', '"')
		dst = append(dst, f.name...)
		dst = append(dst, '"', ':')
		dst = append(dst, b...)
	}
	if m.extra != "" {
		dst = append(dst, ',')
		dst = append(dst, m.extra...)
	}
	return append(dst, '}'), nil
}

// UnmarshalJSON decodes one AirbyteMessage. Unknown members and unknown
// message types are kept.
func (m *Message) UnmarshalJSON(data []byte) error {
	return m.decode(data, &decodeState{})
}

// decodeState is what one decode call shares: whether the input belongs to
// the result (then record data may alias it instead of being copied), and
// a table of stream names and namespaces already seen, so that a stream
// of records allocates each name once.
type decodeState struct {
	owned  bool
	intern map[string]string
	plans  typedPlans     // set when the consumer wants typed records
	record *RecordMessage // room for the message's record, if any
}

// str returns the string of raw JSON string v, interned.
func (st *decodeState) str(v []byte) (string, error) {
	if st.intern != nil && len(v) >= 2 {
		if s, ok := st.intern[string(v[1:len(v)-1])]; ok {
			return s, nil
		}
	}
	s, err := decodeString(v)
	if err == nil && st.intern != nil && len(st.intern) < 4096 && bytes.IndexByte(v, '\\') < 0 {
		st.intern[s] = s
	}
	return s, err
}

// messageType returns the Type for raw JSON string v without allocating for
// the known types.
func messageType(v []byte) (Type, error) {
	if len(v) >= 2 {
		switch string(v[1 : len(v)-1]) {
		case "RECORD":
			return TypeRecord, nil
		case "STATE":
			return TypeState, nil
		case "LOG":
			return TypeLog, nil
		case "TRACE":
			return TypeTrace, nil
		case "CONTROL":
			return TypeControl, nil
		}
	}
	s, err := decodeString(v)
	return Type(s), err
}

// decode fills m from data. It validates data (json.Valid's rules) in the
// same pass.
func (m *Message) decode(data []byte, st *decodeState) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	*m = Message{}
	var extra extraBuilder
	sawType := false
	end, err := parseObject(data, skipSpace(data, 0), 1, func(k []byte, i int) (int, error) {
		if string(k) == "record" && i < len(data) && data[i] == '{' {
			if m.Record = st.record; m.Record == nil {
				m.Record = new(RecordMessage)
			}
			st.record = nil
			end, err := m.Record.parse(data, i, 2, st)
			if err != nil {
				return -1, fmt.Errorf("record: %w", err)
			}
			return end, nil
		}
		end := scanValue(data, i, 2)
		if end < 0 {
			return -1, errSyntax
		}
		v := data[i:end]
		if isNull(v) {
			if string(k) == "type" {
				return -1, fmt.Errorf("message type is null")
			}
			if !isMessageField(string(k)) {
				extra.addBytes(k, v)
			}
			return end, nil
		}
		var err error
		switch string(k) {
		case "type":
			if m.Type, err = messageType(v); err == nil {
				sawType = true
			}
		case "record":
			err = errors.New("not an object")
		case "log":
			m.Log = new(LogMessage)
			err = m.Log.UnmarshalJSON(v)
		case "spec":
			m.Spec = new(ConnectorSpecification)
			err = m.Spec.UnmarshalJSON(v)
		case "connectionStatus":
			m.ConnectionStatus = new(ConnectionStatus)
			err = m.ConnectionStatus.UnmarshalJSON(v)
		case "catalog":
			m.Catalog = new(Catalog)
			err = m.Catalog.UnmarshalJSON(v)
		case "state":
			m.State = new(StateMessage)
			err = m.State.UnmarshalJSON(v)
		case "trace":
			m.Trace = new(TraceMessage)
			err = m.Trace.UnmarshalJSON(v)
		case "control":
			m.Control = new(ControlMessage)
			err = m.Control.UnmarshalJSON(v)
		case "destination_catalog":
			m.DestinationCatalog = new(DestinationCatalog)
			err = m.DestinationCatalog.UnmarshalJSON(v)
		default:
			extra.addBytes(k, v)
		}
		if err != nil {
			return -1, fmt.Errorf("%s: %w", k, err)
		}
		return end, nil
	})
	if err != nil {
		return err
	}
	if skipSpace(data, end) != len(data) {
		return errSyntax
	}
	if !sawType {
		return errNoType
	}
	m.extra = extra.String()
	return nil
}

var errNoType = fmt.Errorf("no message type")

func isMessageField(k string) bool {
	switch k {
	case "type", "record", "log", "spec", "connectionStatus", "catalog", "state", "trace", "control", "destination_catalog":
		return true
	}
	return false
}

// MarshalJSON encodes r, unknown members included.
func (r RecordMessage) MarshalJSON() ([]byte, error) {
	return r.appendJSON(make([]byte, 0, 64+len(r.Data)))
}

func (r *RecordMessage) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	if r.Namespace != "" {
		dst = append(dst, `"namespace":`...)
		dst = AppendJSONString(dst, r.Namespace)
		dst = append(dst, ',')
	}
	dst = append(dst, `"stream":`...)
	dst = AppendJSONString(dst, r.Stream)
	dst = append(dst, `,"data":`...)
	if len(r.Data) == 0 && r.Values != nil {
		dst = r.Values.AppendJSON(dst)
	} else if len(r.Data) == 0 {
		dst = append(dst, "{}"...)
	} else {
		dst = append(dst, r.Data...)
	}
	dst = append(dst, `,"emitted_at":`...)
	dst = strconv.AppendInt(dst, r.EmittedAt, 10)
	if r.Meta != nil {
		b, err := r.Meta.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("airbyte: encode record meta of stream %q: %w", r.Stream, err)
		}
		dst = append(dst, `,"meta":`...)
		dst = append(dst, b...)
	}
	if r.FileReference != nil {
		b, err := r.FileReference.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("airbyte: encode file reference of stream %q: %w", r.Stream, err)
		}
		dst = append(dst, `,"file_reference":`...)
		dst = append(dst, b...)
	}
	if r.extra != "" {
		dst = append(dst, ',')
		dst = append(dst, r.extra...)
	}
	return append(dst, '}'), nil
}

// UnmarshalJSON decodes a record; Data keeps the raw JSON of "data".
func (r *RecordMessage) UnmarshalJSON(data []byte) error {
	return r.decode(data, &decodeState{})
}

func (r *RecordMessage) decode(data []byte, st *decodeState) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	end, err := r.parse(data, skipSpace(data, 0), 1, st)
	if err != nil {
		return err
	}
	if skipSpace(data, end) != len(data) {
		return errSyntax
	}
	return nil
}

// parse decodes the record object that starts at data[i], depth levels
// deep, and returns the index just past it.
func (r *RecordMessage) parse(data []byte, i, depth int, st *decodeState) (int, error) {
	*r = RecordMessage{}
	var extra extraBuilder
	dataFirst := false // typed records wanted, but data came before stream
	end, err := parseObject(data, i, depth, func(k []byte, i int) (int, error) {
		if st.plans != nil && string(k) == "data" && r.Stream == "" {
			dataFirst = true
		}
		if st.plans != nil && string(k) == "data" && r.Stream != "" && i < len(data) && data[i] == '{' {
			if p := st.plans[r.Stream]; p != nil {
				vals, end := p.parse(data, i, depth+1)
				if end < 0 {
					return -1, errSyntax
				}
				if vals != nil {
					r.Values, r.Data = vals, nil
				} else {
					r.Data = json.RawMessage(data[i:end:end])
				}
				return end, nil
			}
		}
		end := scanValue(data, i, depth+1)
		if end < 0 {
			return -1, errSyntax
		}
		v := data[i:end]
		var err error
		switch string(k) {
		case "stream":
			if !isNull(v) {
				r.Stream, err = st.str(v)
			}
		case "namespace":
			if !isNull(v) {
				r.Namespace, err = st.str(v)
			}
		case "data":
			if st.owned {
				r.Data = json.RawMessage(v[:len(v):len(v)])
			} else {
				r.Data = json.RawMessage(bytes.Clone(v))
			}
		case "emitted_at":
			if !isNull(v) {
				r.EmittedAt, err = decodeInt(v)
			}
		case "meta":
			if !isNull(v) {
				r.Meta = new(RecordMeta)
				err = r.Meta.UnmarshalJSON(v)
			}
		case "file_reference":
			if !isNull(v) {
				r.FileReference = new(RecordFileReference)
				err = r.FileReference.UnmarshalJSON(v)
			}
		default:
			extra.addBytes(k, v)
		}
		if err != nil {
			return -1, fmt.Errorf("%s: %w", k, err)
		}
		return end, nil
	})
	if err != nil {
		return -1, err
	}
	if st.plans != nil {
		p := st.plans[r.Stream]
		ok := p != nil && p.namespace == r.Namespace
		switch v, typed := r.Values.(*jsonValues); {
		case typed && !ok:
			// Read by the plan of the stream's name, but the namespace
			// is another: the record keeps its JSON.
			r.Data, r.Values = json.RawMessage(v.data), nil
		case dataFirst && ok && len(r.Data) > 0 && r.Data[0] == '{':
			// The data came before the stream's name: read it now.
			if vals, end := p.parse(r.Data, 0, depth+1); vals != nil && end == len(r.Data) {
				r.Values, r.Data = vals, nil
			}
		}
	}
	r.extra = extra.String()
	return end, nil
}

// DecodeData decodes the record's data into v (typically a struct or
// map[string]any), as json.Unmarshal does.
func (r *RecordMessage) DecodeData(v any) error {
	if err := json.Unmarshal(r.DataJSON(), v); err != nil {
		return fmt.Errorf("airbyte: data of stream %s: %w", StreamDescriptor{Name: r.Stream, Namespace: r.Namespace}, err)
	}
	return nil
}

// Descriptor returns the record's stream name and namespace.
func (r *RecordMessage) Descriptor() StreamDescriptor {
	return StreamDescriptor{Name: r.Stream, Namespace: r.Namespace}
}
