package staging

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/dataopskit/dataops/warehouse"
)

// errTypecast marks a value that does not fit its column's type; the loader
// stores NULL and records a DESTINATION_TYPECAST_ERROR change instead.
var errTypecast = errors.New("value does not fit the column type")

// convertValue turns one raw JSON value into the portable Go value of t.
// JSON null (and an absent field) is nil. A value that cannot be represented
// returns errTypecast; strings of numbers and booleans are accepted, as the
// SQL casts of Airbyte destinations accept them.
func convertValue(t warehouse.Type, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch t.Kind {
	case warehouse.KindString:
		if raw[0] == '"' {
			s, ok := unquote(raw)
			if !ok {
				return nil, errTypecast
			}
			return s, nil
		}
		// Numbers, booleans, objects and arrays keep their JSON text.
		return string(raw), nil
	case warehouse.KindInteger:
		s := scalarText(raw)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), nil
		}
		return nil, errTypecast
	case warehouse.KindFloat:
		f, err := strconv.ParseFloat(scalarText(raw), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, errTypecast
		}
		return f, nil
	case warehouse.KindDecimal:
		d, err := warehouse.ParseDecimal(scalarText(raw))
		if err != nil {
			return nil, errTypecast
		}
		return d, nil
	case warehouse.KindBoolean:
		switch strings.ToLower(scalarText(raw)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errTypecast
	case warehouse.KindDate, warehouse.KindTimestamp, warehouse.KindTimestampTZ, warehouse.KindTime:
		s, ok := unquote(raw)
		if !ok {
			return nil, errTypecast
		}
		tm, err := parseTime(t.Kind, s)
		if err != nil {
			return nil, errTypecast
		}
		return tm, nil
	case warehouse.KindJSON:
		if !json.Valid(raw) {
			return nil, errTypecast
		}
		return json.RawMessage(bytes.Clone(raw)), nil
	}
	return nil, errTypecast
}

// scalarText returns a JSON number's text, or a JSON string's content. A
// number's text aliases raw: parse it, do not keep it.
func scalarText(raw json.RawMessage) string {
	if raw[0] == '"' {
		s, _ := unquote(raw)
		return strings.TrimSpace(s)
	}
	return unsafe.String(unsafe.SliceData(raw), len(raw))
}

var (
	zonedLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999 Z07:00", "2006-01-02T15:04:05.999999999 MST"}
	plainLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}
	timeLayouts  = []string{"15:04:05.999999999", "15:04"}
)

// parseTime parses the textual forms Airbyte sources emit for dates, times
// and timestamps. A timestamp with zone given without one is taken as UTC;
// a timestamp without zone given with one keeps its wall clock.
func parseTime(kind warehouse.Kind, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if kind == warehouse.KindTime {
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return warehouse.TimeOfDay(t), nil
			}
		}
		return time.Time{}, errTypecast
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			switch kind {
			case warehouse.KindDate:
				return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
			case warehouse.KindTimestamp:
				return warehouse.WallClockUTC(t), nil
			}
			return t.UTC(), nil
		}
	}
	for _, l := range plainLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if kind == warehouse.KindDate {
				return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
			}
			return t, nil // parsed as UTC
		}
	}
	return time.Time{}, errTypecast
}
