package airbyte

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	RegisterSource("test-fake", func() Source { return NewProcessSource(Command{Path: fakeConnector}) })
	defer RegisterSource("test-fake", nil)
	if !slices.Contains(Sources(), "test-fake") {
		t.Fatalf("Sources() = %v", Sources())
	}
	src, err := NewSource("test-fake")
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Check(context.Background(), json.RawMessage(`{"api_key":"good"}`))
	if err != nil || st.Status != StatusSucceeded {
		t.Fatalf("check through the registry: %+v %v", st, err)
	}
	_, err = NewSource("nope")
	if !errors.Is(err, ErrUnknownSource) || !strings.Contains(err.Error(), "test-fake") || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown source: %v", err)
	}
	RegisterSource("test-nil", func() Source { return nil })
	defer RegisterSource("test-nil", nil)
	if _, err := NewSource("test-nil"); err == nil {
		t.Error("a nil source was returned without error")
	}
}

// stubSource is a native source with a fixed spec, to test Validating.
type stubSource struct{ ran int }

func (s *stubSource) Spec(context.Context) (*ConnectorSpecification, error) {
	return &ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"object","required":["host"],"properties":{"host":{"type":"string"}}}`)}, nil
}
func (s *stubSource) Check(context.Context, json.RawMessage) (*ConnectionStatus, error) {
	s.ran++
	return &ConnectionStatus{Status: StatusSucceeded}, nil
}
func (s *stubSource) Discover(context.Context, json.RawMessage) (*Catalog, error) {
	s.ran++
	return &Catalog{}, nil
}
func (s *stubSource) Read(context.Context, json.RawMessage, *ConfiguredCatalog, []StateMessage) (ReadStream, error) {
	s.ran++
	return nil, errors.New("not implemented")
}

func TestValidatingWrapper(t *testing.T) {
	stub := &stubSource{}
	src := Validating(stub)
	if Validating(src) != src {
		t.Error("Validating wraps twice")
	}
	ctx := context.Background()
	if _, err := src.Check(ctx, json.RawMessage(`{}`)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("check: %v", err)
	}
	if _, err := src.Discover(ctx, json.RawMessage(`{"host":1}`)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("discover: %v", err)
	}
	if _, err := src.Read(ctx, json.RawMessage(`{}`), &ConfiguredCatalog{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("read: %v", err)
	}
	if stub.ran != 0 {
		t.Errorf("the source ran %d times on invalid configs", stub.ran)
	}
	if _, err := src.Check(ctx, json.RawMessage(`{"host":"h"}`)); err != nil || stub.ran != 1 {
		t.Errorf("valid config: %v, ran %d", err, stub.ran)
	}
}
