package airbyte

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var testSpec = &ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["host", "port", "credentials"],
  "additionalProperties": false,
  "properties": {
    "host": {"type": "string", "minLength": 1, "order": 0},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "schemas": {"type": "array", "items": {"type": "string", "pattern": "^[a-z_]+$"}},
    "api_key": {"type": "string", "airbyte_secret": true, "pattern": "^key-[0-9]+$"},
    "credentials": {
      "type": "object",
      "oneOf": [
        {"title": "password", "required": ["method", "password"], "properties": {"method": {"const": "password"}, "password": {"type": "string", "airbyte_secret": true, "minLength": 12}}},
        {"title": "token", "required": ["method", "token"], "properties": {"method": {"const": "token"}, "token": {"type": "string", "airbyte_secret": true, "enum": ["a-token"]}}}
      ]
    }
  }
}`)}

func TestValidateConfigAcceptsValid(t *testing.T) {
	for _, cfg := range []string{
		`{"host":"db","port":5432,"credentials":{"method":"password","password":"long-enough-pw"}}`,
		`{"host":"db","port":1,"schemas":["public","sales"],"api_key":"key-1","credentials":{"method":"token","token":"a-token"}}`,
	} {
		if err := ValidateConfig(testSpec, json.RawMessage(cfg)); err != nil {
			t.Errorf("%s: %v", cfg, err)
		}
	}
	if err := ValidateConfig(&ConnectorSpecification{}, json.RawMessage(`{"anything":1}`)); err != nil {
		t.Errorf("spec without schema: %v", err)
	}
}

func TestValidateConfigListsEveryPathAndHidesSecrets(t *testing.T) {
	cfg := `{"port":"5432","schemas":["ok","Bad-Name",7],"api_key":"hunter2-secret","extra":true,"credentials":{"method":"password","password":"tiny-secret"}}`
	err := ValidateConfig(testSpec, json.RawMessage(cfg))
	var ce *ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	paths := map[string]string{}
	for _, p := range ce.Problems {
		paths[p.Path] += p.Message + " | "
	}
	for _, want := range []string{"$.host", "$.port", "$.schemas[1]", "$.schemas[2]", "$.api_key", "$", "$.credentials.password"} {
		if _, ok := paths[want]; !ok {
			t.Errorf("no problem reported at %s; got %v", want, paths)
		}
	}
	if !strings.Contains(paths["$.host"], "required") {
		t.Errorf("$.host: %s", paths["$.host"])
	}
	if !strings.Contains(paths["$"], "extra") {
		t.Errorf("additional property not named: %s", paths["$"])
	}
	if !strings.Contains(paths["$.schemas[1]"], "Bad-Name") {
		t.Errorf("non-secret value should be shown: %s", paths["$.schemas[1]"])
	}
	msg := err.Error()
	t.Log(msg)
	for _, secret := range []string{"hunter2", "tiny-secret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error text leaks secret %q: %s", secret, msg)
		}
	}
}

func TestValidateConfigNotJSON(t *testing.T) {
	err := ValidateConfig(testSpec, json.RawMessage(`{"host":`))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Problems[0].Path != "$" {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateConfigBadSchema(t *testing.T) {
	err := ValidateConfig(&ConnectorSpecification{ConnectionSpecification: json.RawMessage(`{"type":"nonsense"}`)}, json.RawMessage(`{}`))
	var ce *ConfigError
	if err == nil || errors.As(err, &ce) {
		t.Fatalf("err = %v, want a schema error that is not a ConfigError", err)
	}
}

func TestJSONPath(t *testing.T) {
	for loc, want := range map[string]string{"": "$", "a": "$.a", "a/0/b c": `$.a[0]["b c"]`, "x/01": `$.x["01"]`} {
		var l []string
		if loc != "" {
			l = strings.Split(loc, "/")
		}
		if got := jsonPath(l); got != want {
			t.Errorf("%q: %s, want %s", loc, got, want)
		}
	}
}
