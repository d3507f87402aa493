package transform

import (
	"log/slog"
	"os"
)

// Option configures Load.
type Option func(*loadOptions)

type loadOptions struct {
	profilesDir string
	target      string
	vars        any
	logger      *slog.Logger
	env         func(string) (string, bool)
	profile     string
	home        string
}

// WithProfilesDir sets the directory holding profiles.yml (dbt's
// --profiles-dir). Without it profiles.yml is looked up in
// $DBT_PROFILES_DIR, then the project directory, then ~/.dbt.
func WithProfilesDir(dir string) Option { return func(o *loadOptions) { o.profilesDir = dir } }

// WithTarget picks the profile target (dbt's --target); the profile's
// `target` key is the default.
func WithTarget(name string) Option { return func(o *loadOptions) { o.target = name } }

// WithProfile overrides the profile name dbt_project.yml gives (dbt's
// --profile).
func WithProfile(name string) Option { return func(o *loadOptions) { o.profile = name } }

// WithVars sets command-line vars (dbt's --vars): a YAML or JSON string,
// or a map[string]any. They override the project's vars.
func WithVars(vars any) Option { return func(o *loadOptions) { o.vars = vars } }

// WithLogger sets the logger for warnings and Jinja's log() calls.
func WithLogger(l *slog.Logger) Option { return func(o *loadOptions) { o.logger = l } }

// WithEnv replaces the environment lookup used by env_var() and
// DBT_PROFILES_DIR (os.LookupEnv by default), so tests and embedding
// services need not touch the process environment.
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(o *loadOptions) { o.env = lookup }
}

func buildOptions(opts []Option) *loadOptions {
	o := &loadOptions{env: os.LookupEnv}
	for _, f := range opts {
		f(o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.home == "" {
		o.home, _ = os.UserHomeDir()
	}
	return o
}
