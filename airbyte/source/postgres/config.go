package postgres

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/jackc/pgx/v5"
)

//go:embed spec.json
var specJSON []byte

// Replication methods (the replication_method.method config field).
const (
	MethodStandard = "Standard" // full refresh, or incremental on a user-chosen cursor column
	MethodCDC      = "CDC"      // logical replication through pgoutput
	MethodXmin     = "Xmin"     // incremental on the xmin system column
)

// Config is the parsed source configuration. Its JSON form is described by
// the spec (Source.Spec); either URL or Host, Database and Username are set.
type Config struct {
	URL               string             `json:"url,omitempty"`                // postgres://… (replaces the connection fields below)
	Host              string             `json:"host,omitempty"`               // server host
	Port              int                `json:"port,omitempty"`               // server port (5432)
	Database          string             `json:"database,omitempty"`           // database name
	Schemas           []string           `json:"schemas,omitempty"`            // schemas to discover and read (["public"])
	Username          string             `json:"username,omitempty"`           // user name
	Password          string             `json:"password,omitempty"`           // password (a secret: never logged)
	SSLMode           *SSLMode           `json:"ssl_mode,omitempty"`           // TLS mode
	JDBCURLParams     string             `json:"jdbc_url_params,omitempty"`    // extra connection parameters, k=v&k2=v2
	ReplicationMethod *ReplicationMethod `json:"replication_method,omitempty"` // how incremental streams are read (Standard)
}

// SSLMode is the ssl_mode config object; Mode is a libpq sslmode.
type SSLMode struct {
	Mode string `json:"mode"`
}

// ReplicationMethod is the replication_method config object.
type ReplicationMethod struct {
	Method                string `json:"method"`                            // MethodStandard, MethodXmin or MethodCDC
	Plugin                string `json:"plugin,omitempty"`                  // CDC: the output plugin (pgoutput)
	ReplicationSlot       string `json:"replication_slot,omitempty"`        // CDC: slot name, created if missing
	Publication           string `json:"publication,omitempty"`             // CDC: publication name, created if missing
	InitialWaitingSeconds int    `json:"initial_waiting_seconds,omitempty"` // CDC: end a read after this long without data (300)
}

// ParseConfig validates raw against the spec's JSON schema (with
// airbyte.ValidateConfig) and decodes it. An invalid config gives an
// *airbyte.ConfigError listing every failing path.
func ParseConfig(raw json.RawMessage) (*Config, error) {
	if err := airbyte.ValidateConfig(&airbyte.ConnectorSpecification{ConnectionSpecification: specJSON}, raw); err != nil {
		var ce *airbyte.ConfigError
		if errors.As(err, &ce) {
			ce.Connector = "postgres source"
			return nil, ce
		}
		return nil, fmt.Errorf("postgres source: %w", err)
	}
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, &airbyte.ConfigError{Connector: "postgres source", Problems: []airbyte.ConfigProblem{{Path: "$", Message: err.Error()}}}
	}
	if c.Port == 0 {
		c.Port = 5432
	}
	if len(c.Schemas) == 0 {
		c.Schemas = []string{"public"}
	}
	if c.ReplicationMethod == nil {
		c.ReplicationMethod = &ReplicationMethod{Method: MethodStandard}
	}
	if c.ReplicationMethod.Method == MethodCDC && c.ReplicationMethod.InitialWaitingSeconds == 0 {
		c.ReplicationMethod.InitialWaitingSeconds = 300
	}
	return &c, nil
}

// sessionParams fix the output formats that the encoders rely on.
var sessionParams = map[string]string{
	"DateStyle":          "ISO, YMD",
	"TimeZone":           "UTC",
	"IntervalStyle":      "iso_8601",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
}

// connString renders the config as a PostgreSQL URL (with the password).
func (c *Config) connString() string {
	if c.URL != "" {
		return c.URL
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), Path: "/" + c.Database}
	if c.Password != "" {
		u.User = url.UserPassword(c.Username, c.Password)
	} else {
		u.User = url.User(c.Username)
	}
	q := url.Values{}
	if c.SSLMode != nil && c.SSLMode.Mode != "" {
		q.Set("sslmode", c.SSLMode.Mode)
	}
	if c.JDBCURLParams != "" {
		for _, kv := range strings.Split(c.JDBCURLParams, "&") {
			k, v, _ := strings.Cut(kv, "=")
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// pgxConfig parses the connection settings and adds the session parameters.
func (c *Config) pgxConfig() (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(c.connString())
	if err != nil {
		// pgx's parse errors may quote the connection string: keep only a
		// generic message so that a password never reaches the error.
		return nil, &airbyte.ConfigError{Connector: "postgres source", Problems: []airbyte.ConfigProblem{{Path: "$", Message: "connection settings do not parse as a PostgreSQL connection string"}}}
	}
	for k, v := range sessionParams {
		cc.RuntimeParams[k] = v
	}
	return cc, nil
}

// method returns the replication method name.
func (c *Config) method() string { return c.ReplicationMethod.Method }
