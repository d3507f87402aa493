package warehouse

import (
	"errors"
	"fmt"
)

// Sentinel errors that callers branch on with errors.Is. Errors returned by a
// Warehouse are *Error values that match one of these when the engine's
// failure is of that class.
var (
	// ErrNotFound: the relation, schema or column does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: the relation or schema exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrPermission: the engine refused the operation for lack of privilege.
	ErrPermission = errors.New("permission denied")
	// ErrInvalidIdentifier: a name is empty, too long for the engine, or holds
	// characters the engine cannot store.
	ErrInvalidIdentifier = errors.New("invalid identifier")
	// ErrUnsupported: the driver does not have the capability asked for.
	ErrUnsupported = errors.New("unsupported")
	// ErrUnknownScheme: no driver is registered for the URL's scheme.
	ErrUnknownScheme = errors.New("unknown warehouse URL scheme")
)

// Error is the error type of warehouse operations. It names the operation and
// the relation (or schema) it was about; errors.Is matches Kind, and Unwrap
// also reaches the engine's own error.
type Error struct {
	Op       string   // what was attempted: "create table", "load", …
	Relation Relation // the subject; may be empty (then Schema or nothing)
	Kind     error    // one of the sentinel errors, or nil
	Err      error    // the underlying error
}

// Error renders "warehouse: <op> <relation>: <kind>: <cause>".
func (e *Error) Error() string {
	msg := "warehouse: " + e.Op
	if s := e.Relation.String(); s != "" {
		msg += " " + s
	}
	if e.Kind != nil && (e.Err == nil || !errors.Is(e.Err, e.Kind)) {
		msg += ": " + e.Kind.Error()
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// wrap turns err into an *Error naming op and rel, classifying the engine
// error through classify. It returns nil for a nil err and leaves an *Error
// that already names a relation as it is.
func wrap(op string, rel Relation, err error, classify func(error) error) error {
	if err == nil {
		return nil
	}
	var we *Error
	if errors.As(err, &we) && we.Relation != (Relation{}) {
		return err
	}
	var kind error
	if classify != nil {
		kind = classify(err)
	}
	return &Error{Op: op, Relation: rel, Kind: kind, Err: err}
}

func errorf(op string, rel Relation, kind error, format string, args ...any) error {
	return &Error{Op: op, Relation: rel, Kind: kind, Err: fmt.Errorf(format, args...)}
}
