package airbyte

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dataopskit/dataops/internal/testenv"
)

const protocolSpecPath = "../../shared/specs/airbyte/airbyte_protocol.yaml"

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Fatalf("%s: no examples", path)
	}
	return lines
}

// sameJSON compares two JSON texts as values (member order and number
// spelling aside).
func sameJSON(t *testing.T, want, got []byte) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if err := json.Unmarshal(got, &b); err != nil {
		t.Fatalf("encoded message is not JSON: %v\n%s", err, got)
	}
	return reflect.DeepEqual(a, b)
}

func TestRoundTripKeepsEveryMember(t *testing.T) {
	for _, file := range []string{"testdata/protocol_examples.jsonl", "testdata/protocol_unknown_enums.jsonl"} {
		for i, line := range readLines(t, file) {
			// Through the Decoder and Encoder.
			dec := NewDecoder(bytes.NewReader(line), Strict())
			m, err := dec.Decode()
			if err != nil {
				t.Fatalf("%s:%d: decode: %v", file, i+1, err)
			}
			var out bytes.Buffer
			if err := NewEncoder(&out).Encode(m); err != nil {
				t.Fatalf("%s:%d: encode: %v", file, i+1, err)
			}
			if !sameJSON(t, line, out.Bytes()) {
				t.Errorf("%s:%d: decoder/encoder round trip changed the message\nin:  %s\nout: %s", file, i+1, line, out.Bytes())
			}
			// Through encoding/json, which calls the same methods.
			var m2 Message
			if err := json.Unmarshal(line, &m2); err != nil {
				t.Fatalf("%s:%d: json.Unmarshal: %v", file, i+1, err)
			}
			b, err := json.Marshal(m2) // by value: value-receiver methods must apply
			if err != nil {
				t.Fatalf("%s:%d: json.Marshal: %v", file, i+1, err)
			}
			if !sameJSON(t, line, b) {
				t.Errorf("%s:%d: encoding/json round trip changed the message\nin:  %s\nout: %s", file, i+1, line, b)
			}
		}
	}
}

func TestDecodedFields(t *testing.T) {
	lines := readLines(t, "testdata/protocol_examples.jsonl")
	var msgs []*Message
	for _, l := range lines {
		m, err := NewDecoder(bytes.NewReader(l), Strict()).Decode()
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	r := msgs[0].Record
	if r.Stream != "users" || r.Namespace != "public" || r.EmittedAt != 1700000000000 {
		t.Errorf("record envelope: %+v", r)
	}
	if string(r.Data) != `{"id":1,"name":"Ada","tags":["x"],"nested":{"a":null}}` {
		t.Errorf("record data not kept raw: %s", r.Data)
	}
	if r.Meta == nil || len(r.Meta.Changes) != 1 || r.Meta.Changes[0].Reason != ReasonSourceFieldSizeLimitation || r.Meta.Changes[0].Change != ChangeTruncated {
		t.Errorf("meta: %+v", r.Meta)
	}
	if r.FileReference == nil || *r.FileReference.FileSizeBytes != 1234 || r.FileReference.SourceFileRelativePath != "a.csv" {
		t.Errorf("file reference: %+v", r.FileReference)
	}
	var data struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	if err := r.DecodeData(&data); err != nil || data.ID != 1 || data.Name != "Ada" {
		t.Errorf("DecodeData: %+v %v", data, err)
	}
	if got := msgs[1].Record.Stream; got != "unicode \"quoted\" é \u2028" {
		t.Errorf("escaped stream name: %q", got)
	}
	st := msgs[2].State
	if st.Type != StateStream || st.Stream.StreamDescriptor.Name != "users" || *st.SourceStats.RecordCount != 10 || *st.DestinationStats.RecordCount != 9 {
		t.Errorf("stream state: %+v", st)
	}
	g := msgs[3].State.Global
	if string(g.SharedState) != `{"lsn":"0/16B3748"}` || len(g.StreamStates) != 2 || g.StreamStates[1].StreamDescriptor.String() != "s.b" {
		t.Errorf("global state: %+v", g)
	}
	if string(msgs[4].State.Data) != `{"users":{"cursor":5}}` {
		t.Errorf("legacy state: %s", msgs[4].State.Data)
	}
	spec := msgs[6].Spec
	if spec.AdvancedAuth == nil || spec.AdvancedAuth.PredicateValue != "Client" || spec.AdvancedAuth.OAuthConfigSpecification == nil ||
		!bytes.Contains(spec.AdvancedAuth.OAuthConfigSpecification.OAuthConnectorInputSpecification, []byte("consent_url")) {
		t.Errorf("advanced auth: %+v", spec.AdvancedAuth)
	}
	if spec.AuthSpecification == nil || len(spec.AuthSpecification.OAuth2Specification.RootObject) != 2 {
		t.Errorf("auth specification: %+v", spec.AuthSpecification)
	}
	if len(spec.SupportedDestinationSyncModes) != 5 || !spec.SupportsDBT {
		t.Errorf("spec: %+v", spec)
	}
	tr := msgs[9].Trace
	if tr.Error.FailureType != FailureConfig || tr.Error.StreamDescriptor.Name != "users" || tr.EmittedAt != 1.7e12 {
		t.Errorf("trace error: %+v", tr.Error)
	}
	ss := msgs[11].Trace.StreamStatus
	if ss.Status != StreamIncomplete || ss.Reasons[0].Type != ReasonRateLimited || *ss.Reasons[0].RateLimited.QuotaReset != 1700000060000 {
		t.Errorf("stream status: %+v", ss)
	}
	c := msgs[13].Control
	if c.Type != ControlConnectorConfigType || !bytes.Contains(c.ConnectorConfig.Config, []byte("new-token")) {
		t.Errorf("control: %+v", c)
	}
	if len(msgs) != 15 || msgs[14].DestinationCatalog.Operations[0].ObjectName != "contacts" {
		t.Errorf("destination catalog: %d messages", len(msgs))
	}
}

func TestUnknownEnumValuesDecode(t *testing.T) {
	lines := readLines(t, "testdata/protocol_unknown_enums.jsonl")
	got := map[string]bool{}
	for _, l := range lines {
		m, err := NewDecoder(bytes.NewReader(l), Strict()).Decode()
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		switch {
		case m.State != nil:
			got[string(m.State.Type)] = true
		case m.Log != nil:
			got[string(m.Log.Level)] = true
		case m.ConnectionStatus != nil:
			got[m.ConnectionStatus.Status] = true
		case m.Catalog != nil:
			got[string(m.Catalog.Streams[0].SupportedSyncModes[2])] = true
		case m.Trace != nil:
			got[string(m.Trace.Error.FailureType)] = true
		default:
			got[string(m.Type)] = true
		}
	}
	for _, want := range []string{"FUTURE_STATE_KIND", "NOTICE", "UNKNOWN_STATUS", "future_mode", "some_new_failure", "SOMETHING_NEW"} {
		if !got[want] {
			t.Errorf("unknown enum value %s was not kept (got %v)", want, got)
		}
	}
}

func TestConfiguredCatalogRoundTrip(t *testing.T) {
	in, err := os.ReadFile("testdata/configured_catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	var c ConfiguredCatalog
	if err := json.Unmarshal(in, &c); err != nil {
		t.Fatal(err)
	}
	s := c.Streams[0]
	if s.DestinationSyncMode != OverwriteDedup || *s.GenerationID != 3 || *s.MinimumGenerationID != 2 || *s.SyncID != 99 ||
		s.DestinationObjectName != "dim_users" || !*s.IncludeFiles || s.CursorField[0] != "updated_at" || s.PrimaryKey[0][0] != "id" {
		t.Errorf("configured stream: %+v", s)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, in, out) {
		t.Errorf("round trip changed the catalog\nin:  %s\nout: %s", in, out)
	}
}

func TestStreamDescriptorStaysComparable(t *testing.T) {
	var a, b StreamDescriptor
	if err := json.Unmarshal([]byte(`{"name":"x","namespace":"n"}`), &a); err != nil {
		t.Fatal(err)
	}
	b = StreamDescriptor{Name: "x", Namespace: "n"}
	m := map[StreamDescriptor]int{b: 1}
	if m[a] != 1 {
		t.Errorf("decoded descriptor %v is not the same map key as %v", a, b)
	}
}

// loadProtocolSpec reads the published protocol schema as JSON values.
func loadProtocolSpec(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(protocolSpecPath)
	if err != nil {
		if testenv.CI() {
			t.Fatalf("protocol spec %s is missing: %v", protocolSpecPath, err)
		}
		t.Skipf("protocol spec %s is missing: %v", protocolSpecPath, err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", protocolSpecPath, err)
	}
	// Through JSON, so that numbers and maps have the shapes jsonschema wants.
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

func TestExamplesConformToPublishedSpec(t *testing.T) {
	doc := loadProtocolSpec(t)
	c := jsonschema.NewCompiler()
	const url = "https://example.com/airbyte_protocol.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	msgSchema, err := c.Compile(url + "#/definitions/AirbyteMessage")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range readLines(t, "testdata/protocol_examples.jsonl") {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		if err := msgSchema.Validate(v); err != nil {
			t.Errorf("example %d does not conform to the spec: %v", i+1, err)
		}
	}
}

// TestStructsCoverSpec checks that every property of every object the
// published spec defines has a Go field, and every enum value a constant.
func TestStructsCoverSpec(t *testing.T) {
	doc := loadProtocolSpec(t)
	defs := doc["definitions"].(map[string]any)
	types := map[string]reflect.Type{
		"AirbyteRecordMessage":                 reflect.TypeFor[RecordMessage](),
		"AirbyteRecordMessageMeta":             reflect.TypeFor[RecordMeta](),
		"AirbyteRecordMessageMetaChange":       reflect.TypeFor[RecordChange](),
		"AirbyteRecordMessageFileReference":    reflect.TypeFor[RecordFileReference](),
		"AirbyteStateMessage":                  reflect.TypeFor[StateMessage](),
		"AirbyteStreamState":                   reflect.TypeFor[StreamState](),
		"AirbyteGlobalState":                   reflect.TypeFor[GlobalState](),
		"StreamDescriptor":                     reflect.TypeFor[StreamDescriptor](),
		"AirbyteStateStats":                    reflect.TypeFor[StateStats](),
		"AirbyteLogMessage":                    reflect.TypeFor[LogMessage](),
		"AirbyteTraceMessage":                  reflect.TypeFor[TraceMessage](),
		"AirbyteErrorTraceMessage":             reflect.TypeFor[ErrorTrace](),
		"AirbyteEstimateTraceMessage":          reflect.TypeFor[EstimateTrace](),
		"AirbyteStreamStatusRateLimitedReason": reflect.TypeFor[StreamStatusRateLimited](),
		"AirbyteStreamStatusReason":            reflect.TypeFor[StreamStatusReason](),
		"AirbyteStreamStatusTraceMessage":      reflect.TypeFor[StreamStatusTrace](),
		"AirbyteAnalyticsTraceMessage":         reflect.TypeFor[AnalyticsTrace](),
		"AirbyteControlMessage":                reflect.TypeFor[ControlMessage](),
		"AirbyteControlConnectorConfigMessage": reflect.TypeFor[ControlConnectorConfig](),
		"AirbyteConnectionStatus":              reflect.TypeFor[ConnectionStatus](),
		"AirbyteCatalog":                       reflect.TypeFor[Catalog](),
		"AirbyteStream":                        reflect.TypeFor[Stream](),
		"ConfiguredAirbyteCatalog":             reflect.TypeFor[ConfiguredCatalog](),
		"ConfiguredAirbyteStream":              reflect.TypeFor[ConfiguredStream](),
		"DestinationCatalog":                   reflect.TypeFor[DestinationCatalog](),
		"DestinationOperation":                 reflect.TypeFor[DestinationOperation](),
		"OAuth2Specification":                  reflect.TypeFor[OAuth2Specification](),
		"ConnectorSpecification":               reflect.TypeFor[ConnectorSpecification](),
		"OAuthConfigSpecification":             reflect.TypeFor[OAuthConfigSpecification](),
		"AirbyteMessage":                       reflect.TypeFor[Message](),
	}
	inline := map[string]reflect.Type{
		"ConnectorSpecification.authSpecification": reflect.TypeFor[AuthSpecification](),
		"ConnectorSpecification.advanced_auth":     reflect.TypeFor[AdvancedAuth](),
	}
	check := func(where string, typ reflect.Type, def map[string]any) {
		props, _ := def["properties"].(map[string]any)
		keys := knownKeys(typ)
		for p := range props {
			found := false
			for _, k := range keys {
				found = found || k == p
			}
			if !found {
				t.Errorf("%s.%s has no field in %s", where, p, typ)
			}
		}
	}
	for name, d := range defs {
		def := d.(map[string]any)
		if _, ok := def["properties"]; !ok {
			continue
		}
		typ, ok := types[name]
		if !ok {
			t.Errorf("definition %s has no Go type", name)
			continue
		}
		check(name, typ, def)
	}
	for path, typ := range inline {
		def, prop, _ := strings.Cut(path, ".")
		check(path, typ, defs[def].(map[string]any)["properties"].(map[string]any)[prop].(map[string]any))
	}

	enums := map[string][]string{
		"AirbyteStateType":    {string(StateGlobal), string(StateStream), string(StateLegacy)},
		"AirbyteStreamStatus": {string(StreamStarted), string(StreamRunning), string(StreamComplete), string(StreamIncomplete)},
		"SyncMode":            {string(FullRefresh), string(Incremental)},
		"DestinationSyncMode": {string(Append), string(Overwrite), string(AppendDedup), string(Update), string(SoftDelete)},
	}
	props := func(def string) map[string]any {
		return defs[def].(map[string]any)["properties"].(map[string]any)
	}
	enumOf := func(v any) []any { return v.(map[string]any)["enum"].([]any) }
	actual := map[string][]any{
		"AirbyteMessage.type":                 enumOf(props("AirbyteMessage")["type"]),
		"AirbyteLogMessage.level":             enumOf(props("AirbyteLogMessage")["level"]),
		"AirbyteTraceMessage.type":            enumOf(props("AirbyteTraceMessage")["type"]),
		"AirbyteErrorTraceMessage.type":       enumOf(props("AirbyteErrorTraceMessage")["failure_type"]),
		"AirbyteRecordMessageMetaChange.rsn":  enumOf(props("AirbyteRecordMessageMetaChange")["reason"]),
		"AirbyteConnectionStatus.status":      enumOf(props("AirbyteConnectionStatus")["status"]),
		"AirbyteEstimateTraceMessage.type":    enumOf(props("AirbyteEstimateTraceMessage")["type"]),
		"AirbyteControlMessage.type":          enumOf(props("AirbyteControlMessage")["type"]),
		"AirbyteRecordMessageMetaChange.chng": enumOf(props("AirbyteRecordMessageMetaChange")["change"]),
	}
	enums["AirbyteMessage.type"] = []string{string(TypeRecord), string(TypeState), string(TypeLog), string(TypeSpec), string(TypeConnectionStatus), string(TypeCatalog), string(TypeTrace), string(TypeControl), string(TypeDestinationCatalog)}
	enums["AirbyteLogMessage.level"] = []string{string(LogFatal), string(LogError), string(LogWarn), string(LogInfo), string(LogDebug), string(LogTrace)}
	enums["AirbyteTraceMessage.type"] = []string{string(TraceError), string(TraceEstimate), string(TraceStreamStatus), string(TraceAnalytics)}
	enums["AirbyteErrorTraceMessage.type"] = []string{string(FailureSystem), string(FailureConfig), string(FailureTransient)}
	enums["AirbyteRecordMessageMetaChange.rsn"] = []string{ReasonSourceRecordSizeLimitation, ReasonDestinationRecordSizeLimitation, ReasonPlatformRecordSizeLimitation,
		ReasonSourceFieldSizeLimitation, ReasonDestinationFieldSizeLimitation, ReasonPlatformFieldSizeLimitation, ReasonSourceSerializationError,
		ReasonDestinationSerializationError, ReasonPlatformSerializationError, ReasonSourceRetrievalError, ReasonDestinationTypecastError}
	enums["AirbyteConnectionStatus.status"] = []string{StatusSucceeded, StatusFailed}
	enums["AirbyteEstimateTraceMessage.type"] = []string{EstimateStream, EstimateSync}
	enums["AirbyteControlMessage.type"] = []string{ControlConnectorConfigType}
	enums["AirbyteRecordMessageMetaChange.chng"] = []string{ChangeNulled, ChangeTruncated}
	for _, d := range []string{"AirbyteStateType", "AirbyteStreamStatus", "SyncMode", "DestinationSyncMode"} {
		actual[d] = defs[d].(map[string]any)["enum"].([]any)
	}
	for name, values := range actual {
		have := map[string]bool{}
		for _, c := range enums[name] {
			have[c] = true
		}
		for _, v := range values {
			if !have[v.(string)] {
				t.Errorf("enum %s: value %v has no constant", name, v)
			}
		}
	}
}
