package api

import "encoding/json"

// JobStatus is the state of a job. The type is an open string: values that
// this package does not know (servers add some, as they once added
// "queued") decode without error and count as not finished.
type JobStatus string

// The job statuses of the public API v1.
const (
	JobPending    JobStatus = "pending"
	JobQueued     JobStatus = "queued"
	JobRunning    JobStatus = "running"
	JobIncomplete JobStatus = "incomplete" // an attempt failed; Airbyte retries it
	JobFailed     JobStatus = "failed"
	JobSucceeded  JobStatus = "succeeded"
	JobCancelled  JobStatus = "cancelled"
)

// Terminal reports whether a job in this status has ended: succeeded,
// failed or cancelled. Unknown statuses are not terminal.
func (s JobStatus) Terminal() bool {
	return s == JobSucceeded || s == JobFailed || s == JobCancelled
}

// Known reports whether s is one of the statuses this package names.
func (s JobStatus) Known() bool {
	switch s {
	case JobPending, JobQueued, JobRunning, JobIncomplete, JobFailed, JobSucceeded, JobCancelled:
		return true
	}
	return false
}

// JobType is the kind of a job. Like JobStatus it is an open string.
type JobType string

// The job types that can be created through the public API v1.
const (
	JobSync    JobType = "sync"    // move new data
	JobReset   JobType = "reset"   // deprecated by Airbyte in favour of clear
	JobRefresh JobType = "refresh" // re-read all data, keeping what is there
	JobClear   JobType = "clear"   // remove the synced data and state
)

// Job is a sync, reset, refresh or clear job of a connection.
type Job struct {
	ID           int64     `json:"jobId"`
	Status       JobStatus `json:"status"`
	Type         JobType   `json:"jobType"`
	ConnectionID string    `json:"connectionId"`
	// StartTime and LastUpdatedAt are ISO 8601 timestamps as the server
	// sent them.
	StartTime     string `json:"startTime,omitempty"`
	LastUpdatedAt string `json:"lastUpdatedAt,omitempty"`
	// Duration is an ISO 8601 duration such as "PT8H6M12S".
	Duration    string `json:"duration,omitempty"`
	BytesSynced int64  `json:"bytesSynced,omitempty"`
	RowsSynced  int64  `json:"rowsSynced,omitempty"`
}

// Tag is a label on a connection.
type Tag struct {
	TagID       string `json:"tagId"`
	WorkspaceID string `json:"workspaceId"`
	Name        string `json:"name"`
	Color       string `json:"color"`
}

// Schedule says when a connection runs: ScheduleType is "manual", "cron" or
// (in responses) "basic".
type Schedule struct {
	ScheduleType   string `json:"scheduleType"`
	CronExpression string `json:"cronExpression,omitempty"`
	BasicTiming    string `json:"basicTiming,omitempty"`
}

// StreamConfiguration configures one stream of a connection. SyncMode is
// one of Airbyte's ConnectionSyncModeEnum values, such as
// "incremental_deduped_history".
type StreamConfiguration struct {
	Name                  string          `json:"name"`
	Namespace             string          `json:"namespace,omitempty"`
	SyncMode              string          `json:"syncMode,omitempty"`
	CursorField           []string        `json:"cursorField,omitempty"`
	PrimaryKey            [][]string      `json:"primaryKey,omitempty"`
	IncludeFiles          *bool           `json:"includeFiles,omitempty"`
	DestinationObjectName string          `json:"destinationObjectName,omitempty"`
	SelectedFields        json.RawMessage `json:"selectedFields,omitempty"`
	Mappers               json.RawMessage `json:"mappers,omitempty"`
}

// StreamConfigurations is the set of streams a connection syncs.
type StreamConfigurations struct {
	Streams []StreamConfiguration `json:"streams,omitempty"`
}

// Connection moves data from a source to a destination.
type Connection struct {
	ID                               string               `json:"connectionId"`
	Name                             string               `json:"name"`
	SourceID                         string               `json:"sourceId"`
	DestinationID                    string               `json:"destinationId"`
	WorkspaceID                      string               `json:"workspaceId"`
	Status                           string               `json:"status"` // active, inactive, deprecated, locked
	StatusReason                     string               `json:"statusReason,omitempty"`
	Schedule                         Schedule             `json:"schedule"`
	NonBreakingSchemaUpdatesBehavior string               `json:"nonBreakingSchemaUpdatesBehavior,omitempty"`
	NamespaceDefinition              string               `json:"namespaceDefinition,omitempty"`
	NamespaceFormat                  string               `json:"namespaceFormat,omitempty"`
	Prefix                           string               `json:"prefix,omitempty"`
	Configurations                   StreamConfigurations `json:"configurations"`
	CreatedAt                        int64                `json:"createdAt"` // Unix seconds
	Tags                             []Tag                `json:"tags"`
}

// ConnectionCreate is the request to create a connection; SourceID and
// DestinationID are required.
type ConnectionCreate struct {
	Name                             string                `json:"name,omitempty"`
	SourceID                         string                `json:"sourceId"`
	DestinationID                    string                `json:"destinationId"`
	Configurations                   *StreamConfigurations `json:"configurations,omitempty"`
	Schedule                         *Schedule             `json:"schedule,omitempty"`
	NamespaceDefinition              string                `json:"namespaceDefinition,omitempty"`
	NamespaceFormat                  string                `json:"namespaceFormat,omitempty"`
	Prefix                           string                `json:"prefix,omitempty"`
	NonBreakingSchemaUpdatesBehavior string                `json:"nonBreakingSchemaUpdatesBehavior,omitempty"`
	Status                           string                `json:"status,omitempty"`
	Tags                             []Tag                 `json:"tags,omitempty"`
}

// ConnectionUpdate is a partial update of a connection: empty fields are
// left as they are.
type ConnectionUpdate struct {
	Name                             string                `json:"name,omitempty"`
	Configurations                   *StreamConfigurations `json:"configurations,omitempty"`
	Schedule                         *Schedule             `json:"schedule,omitempty"`
	NamespaceDefinition              string                `json:"namespaceDefinition,omitempty"`
	NamespaceFormat                  string                `json:"namespaceFormat,omitempty"`
	Prefix                           string                `json:"prefix,omitempty"`
	NonBreakingSchemaUpdatesBehavior string                `json:"nonBreakingSchemaUpdatesBehavior,omitempty"`
	Status                           string                `json:"status,omitempty"`
	Tags                             []Tag                 `json:"tags,omitempty"`
}

// Source is a configured source connector. Configuration is the connector's
// configuration as the server returned it (secrets masked by the server).
type Source struct {
	ID                 string          `json:"sourceId"`
	Name               string          `json:"name"`
	SourceType         string          `json:"sourceType"`
	DefinitionID       string          `json:"definitionId"`
	WorkspaceID        string          `json:"workspaceId"`
	Configuration      json.RawMessage `json:"configuration"`
	CreatedAt          int64           `json:"createdAt"`
	ResourceAllocation json.RawMessage `json:"resourceAllocation,omitempty"`
}

// SourceCreate is the request to create a source. Configuration is any
// value that encodes to the connector's configuration object; it names the
// connector with "sourceType" unless DefinitionID is set.
type SourceCreate struct {
	Name          string `json:"name"`
	WorkspaceID   string `json:"workspaceId"`
	DefinitionID  string `json:"definitionId,omitempty"`
	Configuration any    `json:"configuration"`
	SecretID      string `json:"secretId,omitempty"`
}

// SourceUpdate is a partial update of a source (PATCH): empty fields are
// left as they are.
type SourceUpdate struct {
	Name          string `json:"name,omitempty"`
	WorkspaceID   string `json:"workspaceId,omitempty"`
	Configuration any    `json:"configuration,omitempty"`
	SecretID      string `json:"secretId,omitempty"`
}

// Destination is a configured destination connector.
type Destination struct {
	ID                 string          `json:"destinationId"`
	Name               string          `json:"name"`
	DestinationType    string          `json:"destinationType"`
	DefinitionID       string          `json:"definitionId"`
	WorkspaceID        string          `json:"workspaceId"`
	Configuration      json.RawMessage `json:"configuration"`
	CreatedAt          int64           `json:"createdAt"`
	ResourceAllocation json.RawMessage `json:"resourceAllocation,omitempty"`
}

// DestinationCreate is the request to create a destination. Configuration
// names the connector with "destinationType" unless DefinitionID is set.
type DestinationCreate struct {
	Name          string `json:"name"`
	WorkspaceID   string `json:"workspaceId"`
	DefinitionID  string `json:"definitionId,omitempty"`
	Configuration any    `json:"configuration"`
}

// DestinationUpdate is a partial update of a destination (PATCH).
type DestinationUpdate struct {
	Name          string `json:"name,omitempty"`
	Configuration any    `json:"configuration,omitempty"`
}

// Workspace groups sources, destinations and connections.
type Workspace struct {
	ID            string          `json:"workspaceId"`
	Name          string          `json:"name"`
	DataResidency string          `json:"dataResidency"`
	Notifications json.RawMessage `json:"notifications,omitempty"`
}

// WorkspaceCreate is the request to create a workspace.
type WorkspaceCreate struct {
	Name           string          `json:"name"`
	OrganizationID string          `json:"organizationId,omitempty"`
	RegionID       string          `json:"regionId,omitempty"`
	Notifications  json.RawMessage `json:"notifications,omitempty"`
}

// WorkspaceUpdate is a partial update of a workspace.
type WorkspaceUpdate struct {
	Name          string          `json:"name,omitempty"`
	RegionID      string          `json:"regionId,omitempty"`
	Notifications json.RawMessage `json:"notifications,omitempty"`
}

// StreamProperties describes a stream that a source offers: its name,
// namespace, the sync modes it supports and its cursor and key fields.
type StreamProperties struct {
	StreamName               string     `json:"streamName"`
	StreamNamespace          string     `json:"streamnamespace,omitempty"`
	SyncModes                []string   `json:"syncModes,omitempty"`
	DefaultCursorField       []string   `json:"defaultCursorField,omitempty"`
	SourceDefinedCursorField bool       `json:"sourceDefinedCursorField,omitempty"`
	SourceDefinedPrimaryKey  [][]string `json:"sourceDefinedPrimaryKey,omitempty"`
	PropertyFields           [][]string `json:"propertyFields,omitempty"`
}
