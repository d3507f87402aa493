package airbyte

import "encoding/json"

// Type is the kind of an Airbyte protocol message (the envelope's "type").
// Values outside the constants below decode without error and are kept.
type Type string

// Message types of the Airbyte protocol.
const (
	TypeRecord             Type = "RECORD"
	TypeState              Type = "STATE"
	TypeLog                Type = "LOG"
	TypeSpec               Type = "SPEC"
	TypeConnectionStatus   Type = "CONNECTION_STATUS"
	TypeCatalog            Type = "CATALOG"
	TypeTrace              Type = "TRACE"
	TypeControl            Type = "CONTROL"
	TypeDestinationCatalog Type = "DESTINATION_CATALOG"
)

// Message is the protocol's envelope (AirbyteMessage): Type says which one of
// the other fields is set.
type Message struct {
	Type             Type                    `json:"type"`
	Log              *LogMessage             `json:"log,omitempty"`
	Spec             *ConnectorSpecification `json:"spec,omitempty"`
	ConnectionStatus *ConnectionStatus       `json:"connectionStatus,omitempty"`
	Catalog          *Catalog                `json:"catalog,omitempty"`
	Record           *RecordMessage          `json:"record,omitempty"`
	State            *StateMessage           `json:"state,omitempty"`
	Trace            *TraceMessage           `json:"trace,omitempty"`
	Control          *ControlMessage         `json:"control,omitempty"`
	// DestinationCatalog is set on DESTINATION_CATALOG messages.
	DestinationCatalog *DestinationCatalog `json:"destination_catalog,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// RecordMessage is one record of a stream. Data stays raw JSON until a
// consumer decodes it.
type RecordMessage struct {
	Namespace string          `json:"namespace,omitempty"`
	Stream    string          `json:"stream"`
	Data      json.RawMessage `json:"data"`
	EmittedAt int64           `json:"emitted_at"` // milliseconds since the Unix epoch
	Meta      *RecordMeta     `json:"meta,omitempty"`
	// FileReference points at the file a file-based record describes.
	FileReference *RecordFileReference `json:"file_reference,omitempty"`
	// Values is the data in typed form, set instead of Data only for
	// consumers that asked for typed records (see TypedReadStream);
	// DataJSON gives the JSON form either way.
	Values RecordValues `json:"-"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// RecordFileReference is the protocol's AirbyteRecordMessageFileReference:
// where the file that a record describes was staged.
type RecordFileReference struct {
	StagingFileURL         string `json:"staging_file_url,omitempty"`
	SourceFileRelativePath string `json:"source_file_relative_path,omitempty"`
	FileSizeBytes          *int64 `json:"file_size_bytes,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// RecordMeta carries what happened to a record's fields on the way.
type RecordMeta struct {
	Changes []RecordChange `json:"changes,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// RecordChange records one field that was nulled or truncated, and why.
type RecordChange struct {
	Field  string `json:"field"`
	Change string `json:"change"` // NULLED or TRUNCATED
	Reason string `json:"reason"` // e.g. DESTINATION_TYPECAST_ERROR

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// Values of RecordChange.Change.
const (
	ChangeNulled    = "NULLED"
	ChangeTruncated = "TRUNCATED"
)

// Values of RecordChange.Reason.
const (
	ReasonSourceRecordSizeLimitation      = "SOURCE_RECORD_SIZE_LIMITATION"
	ReasonDestinationRecordSizeLimitation = "DESTINATION_RECORD_SIZE_LIMITATION"
	ReasonPlatformRecordSizeLimitation    = "PLATFORM_RECORD_SIZE_LIMITATION"
	ReasonSourceFieldSizeLimitation       = "SOURCE_FIELD_SIZE_LIMITATION"
	ReasonDestinationFieldSizeLimitation  = "DESTINATION_FIELD_SIZE_LIMITATION"
	ReasonPlatformFieldSizeLimitation     = "PLATFORM_FIELD_SIZE_LIMITATION"
	ReasonSourceSerializationError        = "SOURCE_SERIALIZATION_ERROR"
	ReasonDestinationSerializationError   = "DESTINATION_SERIALIZATION_ERROR"
	ReasonPlatformSerializationError      = "PLATFORM_SERIALIZATION_ERROR"
	ReasonSourceRetrievalError            = "SOURCE_RETRIEVAL_ERROR"
	ReasonDestinationTypecastError        = "DESTINATION_TYPECAST_ERROR"
)

// StateType says which form a StateMessage has.
type StateType string

// State message forms.
const (
	StateGlobal StateType = "GLOBAL"
	StateStream StateType = "STREAM"
	StateLegacy StateType = "LEGACY"
)

// StateMessage is a checkpoint: once a consumer has durably stored every
// record that came before it, the source may resume from it.
type StateMessage struct {
	Type             StateType       `json:"type,omitempty"`
	Stream           *StreamState    `json:"stream,omitempty"`
	Global           *GlobalState    `json:"global,omitempty"`
	Data             json.RawMessage `json:"data,omitempty"` // LEGACY
	SourceStats      *StateStats     `json:"sourceStats,omitempty"`
	DestinationStats *StateStats     `json:"destinationStats,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// StreamState is the state of one stream.
type StreamState struct {
	StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
	StreamState      json.RawMessage  `json:"stream_state,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// GlobalState is a state shared by all streams (CDC) plus per-stream states.
type GlobalState struct {
	SharedState  json.RawMessage `json:"shared_state,omitempty"`
	StreamStates []StreamState   `json:"stream_states"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// StreamDescriptor names a stream: its name and optional namespace. It stays
// comparable (usable as a map key); unknown members are part of its value.
type StreamDescriptor struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// String renders "namespace.name", or the name alone.
func (d StreamDescriptor) String() string {
	if d.Namespace == "" {
		return d.Name
	}
	return d.Namespace + "." + d.Name
}

// StateStats counts the records a state covers.
type StateStats struct {
	RecordCount         *float64 `json:"recordCount,omitempty"`
	RejectedRecordCount *float64 `json:"rejectedRecordCount,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// LogLevel is the level of a LogMessage.
type LogLevel string

// Log levels.
const (
	LogFatal LogLevel = "FATAL"
	LogError LogLevel = "ERROR"
	LogWarn  LogLevel = "WARN"
	LogInfo  LogLevel = "INFO"
	LogDebug LogLevel = "DEBUG"
	LogTrace LogLevel = "TRACE"
)

// LogMessage is a log line from a connector.
type LogMessage struct {
	Level      LogLevel `json:"level"`
	Message    string   `json:"message"`
	StackTrace string   `json:"stack_trace,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// TraceType is the kind of a TraceMessage.
type TraceType string

// Trace kinds.
const (
	TraceError        TraceType = "ERROR"
	TraceEstimate     TraceType = "ESTIMATE"
	TraceStreamStatus TraceType = "STREAM_STATUS"
	TraceAnalytics    TraceType = "ANALYTICS"
)

// TraceMessage reports errors, estimates, stream statuses and analytics.
type TraceMessage struct {
	Type         TraceType          `json:"type"`
	EmittedAt    float64            `json:"emitted_at"`
	Error        *ErrorTrace        `json:"error,omitempty"`
	Estimate     *EstimateTrace     `json:"estimate,omitempty"`
	StreamStatus *StreamStatusTrace `json:"stream_status,omitempty"`
	Analytics    *AnalyticsTrace    `json:"analytics,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// FailureType classifies an ErrorTrace.
type FailureType string

// Failure types.
const (
	FailureSystem    FailureType = "system_error"
	FailureConfig    FailureType = "config_error"
	FailureTransient FailureType = "transient_error"
)

// ErrorTrace is a connector's report of why it failed.
type ErrorTrace struct {
	Message          string            `json:"message"`
	InternalMessage  string            `json:"internal_message,omitempty"`
	StackTrace       string            `json:"stack_trace,omitempty"`
	FailureType      FailureType       `json:"failure_type,omitempty"`
	StreamDescriptor *StreamDescriptor `json:"stream_descriptor,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// EstimateTrace estimates the rows or bytes still to come.
type EstimateTrace struct {
	Name         string `json:"name"`
	Type         string `json:"type"` // STREAM or SYNC
	Namespace    string `json:"namespace,omitempty"`
	RowEstimate  *int64 `json:"row_estimate,omitempty"`
	ByteEstimate *int64 `json:"byte_estimate,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// Values of EstimateTrace.Type.
const (
	EstimateStream = "STREAM"
	EstimateSync   = "SYNC"
)

// StreamStatus is a stream's progress.
type StreamStatus string

// Stream statuses.
const (
	StreamStarted    StreamStatus = "STARTED"
	StreamRunning    StreamStatus = "RUNNING"
	StreamComplete   StreamStatus = "COMPLETE"
	StreamIncomplete StreamStatus = "INCOMPLETE"
)

// StreamStatusTrace reports a stream's status.
type StreamStatusTrace struct {
	StreamDescriptor StreamDescriptor     `json:"stream_descriptor"`
	Status           StreamStatus         `json:"status"`
	Reasons          []StreamStatusReason `json:"reasons,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// StreamStatusReason explains a status (e.g. RATE_LIMITED).
type StreamStatusReason struct {
	Type        string                   `json:"type"`
	RateLimited *StreamStatusRateLimited `json:"rate_limited,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// ReasonRateLimited is the StreamStatusReason type of a rate-limited stream.
const ReasonRateLimited = "RATE_LIMITED"

// StreamStatusRateLimited says when a rate-limited stream may go on.
type StreamStatusRateLimited struct {
	QuotaReset *int64 `json:"quota_reset,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// AnalyticsTrace is a connector's analytics event.
type AnalyticsTrace struct {
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// ControlMessage lets a connector talk to the platform; CONNECTOR_CONFIG
// carries a new config (for example rotated credentials) that the caller
// must persist.
type ControlMessage struct {
	Type            string                  `json:"type"`
	EmittedAt       float64                 `json:"emitted_at"`
	ConnectorConfig *ControlConnectorConfig `json:"connectorConfig,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// ControlConnectorConfigType is the ControlMessage type that carries an
// updated connector config.
const ControlConnectorConfigType = "CONNECTOR_CONFIG"

// ControlConnectorConfig holds the connector's updated config.
type ControlConnectorConfig struct {
	Config json.RawMessage `json:"config"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// ConnectionStatus answers a Check.
type ConnectionStatus struct {
	Status  string `json:"status"` // SUCCEEDED or FAILED
	Message string `json:"message,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// Connection statuses.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
)

// ConnectorSpecification describes a connector and its config schema.
type ConnectorSpecification struct {
	DocumentationURL              string                `json:"documentationUrl,omitempty"`
	ChangelogURL                  string                `json:"changelogUrl,omitempty"`
	ConnectionSpecification       json.RawMessage       `json:"connectionSpecification"`
	SupportsIncremental           bool                  `json:"supportsIncremental,omitempty"`
	SupportsNormalization         bool                  `json:"supportsNormalization,omitempty"`
	SupportsDBT                   bool                  `json:"supportsDBT,omitempty"`
	SupportedDestinationSyncModes []DestinationSyncMode `json:"supported_destination_sync_modes,omitempty"`
	ProtocolVersion               string                `json:"protocol_version,omitempty"`
	// AuthSpecification is the deprecated OAuth description.
	AuthSpecification *AuthSpecification `json:"authSpecification,omitempty"`
	// AdvancedAuth describes an OAuth flow the platform can run for the user.
	AdvancedAuth *AdvancedAuth `json:"advanced_auth,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// AuthSpecification is the deprecated description of a connector's OAuth
// flow (superseded by AdvancedAuth).
type AuthSpecification struct {
	AuthType            string               `json:"auth_type,omitempty"` // oauth2.0
	OAuth2Specification *OAuth2Specification `json:"oauth2Specification,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// OAuth2Specification is the deprecated OAuth metadata: where in the config
// the OAuth parameters live.
type OAuth2Specification struct {
	// RootObject is a path of strings and integers (oneOf indexes).
	RootObject                []json.RawMessage `json:"rootObject,omitempty"`
	OAuthFlowInitParameters   [][]string        `json:"oauthFlowInitParameters,omitempty"`
	OAuthFlowOutputParameters [][]string        `json:"oauthFlowOutputParameters,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// AdvancedAuth describes an OAuth flow that the platform may run to fill in
// part of the config.
type AdvancedAuth struct {
	AuthFlowType             string                    `json:"auth_flow_type,omitempty"` // oauth2.0 or oauth1.0
	PredicateKey             []string                  `json:"predicate_key,omitempty"`
	PredicateValue           string                    `json:"predicate_value,omitempty"`
	OAuthConfigSpecification *OAuthConfigSpecification `json:"oauth_config_specification,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// OAuthConfigSpecification holds the JSON schemas and templates of an OAuth
// flow; each stays raw JSON.
type OAuthConfigSpecification struct {
	OAuthUserInputFromConnectorConfigSpecification json.RawMessage `json:"oauth_user_input_from_connector_config_specification,omitempty"`
	OAuthConnectorInputSpecification               json.RawMessage `json:"oauth_connector_input_specification,omitempty"`
	CompleteOAuthOutputSpecification               json.RawMessage `json:"complete_oauth_output_specification,omitempty"`
	CompleteOAuthServerInputSpecification          json.RawMessage `json:"complete_oauth_server_input_specification,omitempty"`
	CompleteOAuthServerOutputSpecification         json.RawMessage `json:"complete_oauth_server_output_specification,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// Catalog lists the streams a source offers (AirbyteCatalog).
type Catalog struct {
	Streams []Stream `json:"streams"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// SyncMode is how a source reads a stream.
type SyncMode string

// Source sync modes.
const (
	FullRefresh SyncMode = "full_refresh"
	Incremental SyncMode = "incremental"
)

// DestinationSyncMode is how a destination writes a stream.
type DestinationSyncMode string

// Destination sync modes. OverwriteDedup is accepted on input.
const (
	Append         DestinationSyncMode = "append"
	Overwrite      DestinationSyncMode = "overwrite"
	AppendDedup    DestinationSyncMode = "append_dedup"
	Update         DestinationSyncMode = "update"
	SoftDelete     DestinationSyncMode = "soft_delete"
	OverwriteDedup DestinationSyncMode = "overwrite_dedup"
)

// Stream describes one stream a source offers (AirbyteStream).
type Stream struct {
	Name                    string          `json:"name"`
	Namespace               string          `json:"namespace,omitempty"`
	JSONSchema              json.RawMessage `json:"json_schema"`
	SupportedSyncModes      []SyncMode      `json:"supported_sync_modes"`
	SourceDefinedCursor     bool            `json:"source_defined_cursor,omitempty"`
	DefaultCursorField      []string        `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string      `json:"source_defined_primary_key,omitempty"`
	IsResumable             *bool           `json:"is_resumable,omitempty"`
	IsFileBased             *bool           `json:"is_file_based,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// Descriptor returns the stream's name and namespace.
func (s Stream) Descriptor() StreamDescriptor {
	return StreamDescriptor{Name: s.Name, Namespace: s.Namespace}
}

// ConfiguredCatalog is what a read is asked to do: the chosen streams and how.
type ConfiguredCatalog struct {
	Streams []ConfiguredStream `json:"streams"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// ConfiguredStream is one stream chosen for a read.
type ConfiguredStream struct {
	Stream              Stream              `json:"stream"`
	SyncMode            SyncMode            `json:"sync_mode"`
	CursorField         []string            `json:"cursor_field,omitempty"`
	DestinationSyncMode DestinationSyncMode `json:"destination_sync_mode"`
	PrimaryKey          [][]string          `json:"primary_key,omitempty"`
	GenerationID        *int64              `json:"generation_id,omitempty"`
	MinimumGenerationID *int64              `json:"minimum_generation_id,omitempty"`
	SyncID              *int64              `json:"sync_id,omitempty"`
	// DestinationObjectName names the destination object to write to.
	DestinationObjectName string `json:"destination_object_name,omitempty"`
	// IncludeFiles asks a file-based stream to carry its files too.
	IncludeFiles *bool `json:"include_files,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// DestinationCatalog lists what a destination can do with its objects
// (DESTINATION_CATALOG messages).
type DestinationCatalog struct {
	Operations []DestinationOperation `json:"operations"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}

// DestinationOperation is one possible operation on a destination object.
type DestinationOperation struct {
	ObjectName   string              `json:"object_name"`
	SyncMode     DestinationSyncMode `json:"sync_mode"`
	JSONSchema   json.RawMessage     `json:"json_schema"`
	MatchingKeys [][]string          `json:"matching_keys,omitempty"`

	extra string // unknown members, raw `"k":v,...`, kept for round trips
}
