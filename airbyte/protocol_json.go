// Methods that keep unknown members of the protocol structs through a
// decode/encode round trip.

package airbyte

import "bytes"

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v RecordFileReference) MarshalJSON() ([]byte, error) {
	type plain RecordFileReference
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *RecordFileReference) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain RecordFileReference
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = RecordFileReference(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v RecordMeta) MarshalJSON() ([]byte, error) {
	type plain RecordMeta
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *RecordMeta) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain RecordMeta
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = RecordMeta(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v RecordChange) MarshalJSON() ([]byte, error) {
	type plain RecordChange
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *RecordChange) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain RecordChange
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = RecordChange(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v StateMessage) MarshalJSON() ([]byte, error) {
	type plain StateMessage
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *StateMessage) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain StateMessage
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = StateMessage(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v StreamState) MarshalJSON() ([]byte, error) {
	type plain StreamState
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *StreamState) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain StreamState
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = StreamState(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v GlobalState) MarshalJSON() ([]byte, error) {
	type plain GlobalState
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *GlobalState) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain GlobalState
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = GlobalState(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v StreamDescriptor) MarshalJSON() ([]byte, error) {
	type plain StreamDescriptor
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *StreamDescriptor) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain StreamDescriptor
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = StreamDescriptor(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v StateStats) MarshalJSON() ([]byte, error) {
	type plain StateStats
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *StateStats) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain StateStats
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = StateStats(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v LogMessage) MarshalJSON() ([]byte, error) {
	type plain LogMessage
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *LogMessage) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain LogMessage
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = LogMessage(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v TraceMessage) MarshalJSON() ([]byte, error) {
	type plain TraceMessage
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *TraceMessage) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain TraceMessage
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = TraceMessage(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v ErrorTrace) MarshalJSON() ([]byte, error) {
	type plain ErrorTrace
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *ErrorTrace) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain ErrorTrace
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = ErrorTrace(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v EstimateTrace) MarshalJSON() ([]byte, error) {
	type plain EstimateTrace
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *EstimateTrace) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain EstimateTrace
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = EstimateTrace(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v StreamStatusTrace) MarshalJSON() ([]byte, error) {
	type plain StreamStatusTrace
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *StreamStatusTrace) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain StreamStatusTrace
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = StreamStatusTrace(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v StreamStatusReason) MarshalJSON() ([]byte, error) {
	type plain StreamStatusReason
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *StreamStatusReason) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain StreamStatusReason
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = StreamStatusReason(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v StreamStatusRateLimited) MarshalJSON() ([]byte, error) {
	type plain StreamStatusRateLimited
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *StreamStatusRateLimited) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain StreamStatusRateLimited
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = StreamStatusRateLimited(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v AnalyticsTrace) MarshalJSON() ([]byte, error) {
	type plain AnalyticsTrace
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *AnalyticsTrace) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain AnalyticsTrace
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = AnalyticsTrace(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v ControlMessage) MarshalJSON() ([]byte, error) {
	type plain ControlMessage
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *ControlMessage) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain ControlMessage
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = ControlMessage(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v ControlConnectorConfig) MarshalJSON() ([]byte, error) {
	type plain ControlConnectorConfig
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *ControlConnectorConfig) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain ControlConnectorConfig
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = ControlConnectorConfig(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v ConnectionStatus) MarshalJSON() ([]byte, error) {
	type plain ConnectionStatus
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *ConnectionStatus) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain ConnectionStatus
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = ConnectionStatus(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v ConnectorSpecification) MarshalJSON() ([]byte, error) {
	type plain ConnectorSpecification
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *ConnectorSpecification) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain ConnectorSpecification
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = ConnectorSpecification(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v AuthSpecification) MarshalJSON() ([]byte, error) {
	type plain AuthSpecification
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *AuthSpecification) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain AuthSpecification
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = AuthSpecification(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v OAuth2Specification) MarshalJSON() ([]byte, error) {
	type plain OAuth2Specification
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *OAuth2Specification) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain OAuth2Specification
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = OAuth2Specification(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v AdvancedAuth) MarshalJSON() ([]byte, error) {
	type plain AdvancedAuth
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *AdvancedAuth) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain AdvancedAuth
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = AdvancedAuth(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v OAuthConfigSpecification) MarshalJSON() ([]byte, error) {
	type plain OAuthConfigSpecification
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *OAuthConfigSpecification) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain OAuthConfigSpecification
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = OAuthConfigSpecification(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v Catalog) MarshalJSON() ([]byte, error) {
	type plain Catalog
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *Catalog) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain Catalog
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = Catalog(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v Stream) MarshalJSON() ([]byte, error) {
	type plain Stream
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *Stream) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain Stream
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = Stream(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v ConfiguredCatalog) MarshalJSON() ([]byte, error) {
	type plain ConfiguredCatalog
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *ConfiguredCatalog) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain ConfiguredCatalog
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = ConfiguredCatalog(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v ConfiguredStream) MarshalJSON() ([]byte, error) {
	type plain ConfiguredStream
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *ConfiguredStream) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain ConfiguredStream
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = ConfiguredStream(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v DestinationCatalog) MarshalJSON() ([]byte, error) {
	type plain DestinationCatalog
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *DestinationCatalog) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain DestinationCatalog
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = DestinationCatalog(p)
	v.extra = extra
	return nil
}

// MarshalJSON encodes v with the unknown members it was decoded with.
func (v DestinationOperation) MarshalJSON() ([]byte, error) {
	type plain DestinationOperation
	p := plain(v)
	return encodeWithExtra(&p, v.extra)
}

// UnmarshalJSON decodes data into v and keeps the members it does not know.
func (v *DestinationOperation) UnmarshalJSON(data []byte) error {
	if isNull(bytes.TrimSpace(data)) {
		return nil
	}
	type plain DestinationOperation
	var p plain
	extra, err := decodeWithExtra(data, &p)
	if err != nil {
		return err
	}
	*v = DestinationOperation(p)
	v.extra = extra
	return nil
}
