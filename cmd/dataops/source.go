package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/airbyte"
)

// sourceFlags are the flags shared by the source verbs.
type sourceFlags struct {
	command    string
	image      string
	native     string
	docker     string
	configFile string
	catalog    string
	state      string
	noValidate bool
}

func newSourceCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f sourceFlags
	cmd := &cobra.Command{
		Use:   "source",
		Short: "Run an Airbyte source — a native one, a connector command or an image — and print protocol JSONL",
		Long: `source runs an Airbyte source and writes its Airbyte protocol messages to stdout,
one JSON object per line, so that it composes with unix tools and with real Airbyte
destinations (dataops source read ... | destination-x write ...).

The source is one of:
  --source NAME        a native source registered in this binary (e.g. postgres, file)
  --command "CMD ..."  any connector executable, e.g. --command "python -m source_faker"
  --image IMAGE        a connector image, run with docker run --rm -i

Configs are validated against the source's spec before it runs; the error lists every
failing path and never shows secrets. Lines a connector prints that are not protocol
messages become LOG messages. Logs go to stderr (-v for debug).`,
		Example: `  dataops source spec --command "python -m source_faker"
  dataops source check --image airbyte/source-faker:6.2.0 --config faker.json
  dataops source discover --source postgres --config pg.json
  dataops source read --source postgres --config pg.json --catalog catalog.json --state state.json`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.native, "source", "", "name of a native source registered in this binary")
	pf.StringVar(&f.command, "command", "", "connector command line, e.g. \"python -m source_x\"")
	pf.StringVar(&f.image, "image", "", "connector image, run with docker run --rm -i")
	pf.StringVar(&f.docker, "docker", "docker", "docker executable for --image")
	pf.BoolVar(&f.noValidate, "no-validate", false, "do not validate the config against the spec")

	spec := &cobra.Command{
		Use:   "spec",
		Short: "Print the source's SPEC message",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := f.open(logger(cmd))
			if err != nil {
				return err
			}
			s, err := src.Spec(cmd.Context())
			if err != nil {
				return err
			}
			return writeMessages(cmd.OutOrStdout(), &airbyte.Message{Type: airbyte.TypeSpec, Spec: s})
		},
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "Check that the config connects; print a CONNECTION_STATUS message (exit 1 if FAILED)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, config, err := f.openWithConfig(logger(cmd))
			if err != nil {
				return err
			}
			st, err := src.Check(cmd.Context(), config)
			if err != nil {
				return err
			}
			if err := writeMessages(cmd.OutOrStdout(), &airbyte.Message{Type: airbyte.TypeConnectionStatus, ConnectionStatus: st}); err != nil {
				return err
			}
			if st.Status != airbyte.StatusSucceeded {
				return fmt.Errorf("connection check %s: %s", st.Status, st.Message)
			}
			return nil
		},
	}
	discover := &cobra.Command{
		Use:   "discover",
		Short: "Print the CATALOG of streams the config gives access to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, config, err := f.openWithConfig(logger(cmd))
			if err != nil {
				return err
			}
			c, err := src.Discover(cmd.Context(), config)
			if err != nil {
				return err
			}
			return writeMessages(cmd.OutOrStdout(), &airbyte.Message{Type: airbyte.TypeCatalog, Catalog: c})
		},
	}
	read := &cobra.Command{
		Use:   "read",
		Short: "Read the configured streams and print every message (records, states, logs, traces)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.runRead(cmd, logger(cmd))
		},
	}
	for _, c := range []*cobra.Command{check, discover, read} {
		c.Flags().StringVar(&f.configFile, "config", "", "config file (JSON)")
		_ = c.MarkFlagRequired("config")
	}
	read.Flags().StringVar(&f.catalog, "catalog", "", "configured catalog file (JSON)")
	read.Flags().StringVar(&f.state, "state", "", "state file: an array of STATE messages, one STATE message, or a legacy state object")
	_ = read.MarkFlagRequired("catalog")
	cmd.AddCommand(spec, check, discover, read)
	return cmd
}

// open returns the source the flags name.
func (f *sourceFlags) open(log *slog.Logger) (airbyte.Source, error) {
	n := 0
	for _, s := range []string{f.native, f.command, f.image} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("name exactly one source: --source NAME, --command \"CMD ...\" or --image IMAGE")
	}
	opts := []airbyte.ProcessOption{airbyte.WithLogger(log)}
	if f.noValidate {
		opts = append(opts, airbyte.WithoutConfigValidation())
	}
	switch {
	case f.native != "":
		src, err := airbyte.NewSource(f.native)
		if err != nil {
			return nil, err
		}
		if f.noValidate {
			return src, nil
		}
		return airbyte.Validating(src), nil
	case f.image != "":
		return airbyte.NewDockerSource(f.image, append(opts, airbyte.WithDocker(f.docker))...), nil
	default:
		argv, err := splitCommand(f.command)
		if err != nil {
			return nil, fmt.Errorf("--command: %w", err)
		}
		return airbyte.NewProcessSource(airbyte.Command{Path: argv[0], Args: argv[1:]}, opts...), nil
	}
}

func (f *sourceFlags) openWithConfig(log *slog.Logger) (airbyte.Source, json.RawMessage, error) {
	src, err := f.open(log)
	if err != nil {
		return nil, nil, err
	}
	config, err := readJSONFile(f.configFile, "config")
	if err != nil {
		return nil, nil, err
	}
	return src, config, nil
}

// readJSONFile reads a JSON file, naming it (and the line of a syntax
// error) when it is not.
func readJSONFile(path, what string) (json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s file: %w", what, err)
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")) + 1
			return nil, fmt.Errorf("%s file %s:%d: not valid JSON: %w", what, path, line, err)
		}
		return nil, fmt.Errorf("%s file %s: not valid JSON: %v", what, path, err)
	}
	return json.RawMessage(data), nil
}

func (f *sourceFlags) runRead(cmd *cobra.Command, log *slog.Logger) error {
	src, config, err := f.openWithConfig(log)
	if err != nil {
		return err
	}
	rawCatalog, err := readJSONFile(f.catalog, "catalog")
	if err != nil {
		return err
	}
	var catalog airbyte.ConfiguredCatalog
	if err := json.Unmarshal(rawCatalog, &catalog); err != nil {
		return fmt.Errorf("catalog file %s: %w", f.catalog, err)
	}
	var state []airbyte.StateMessage
	if f.state != "" {
		raw, err := readJSONFile(f.state, "state")
		if err != nil {
			return err
		}
		if state, err = parseState(raw); err != nil {
			return fmt.Errorf("state file %s: %w", f.state, err)
		}
	}
	ctx := cmd.Context()
	rs, err := src.Read(ctx, config, &catalog, state)
	if err != nil {
		return err
	}
	defer rs.Close()
	w := bufio.NewWriterSize(cmd.OutOrStdout(), 256<<10)
	enc := airbyte.NewEncoder(w)
	for m, err := range rs.Messages() {
		if err != nil {
			_ = w.Flush()
			return err
		}
		if err := enc.Encode(m); err != nil {
			return err
		}
		if m.Type == airbyte.TypeState {
			// The checkpoint is "committed" once it has left this process.
			if err := w.Flush(); err != nil {
				return fmt.Errorf("write stdout: %w", err)
			}
			if err := rs.Ack(ctx, m.State); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return rs.Close()
}

// parseState accepts what Airbyte passes as --state: an array of state
// messages, one state message, or a legacy state object.
func parseState(raw json.RawMessage) ([]airbyte.StateMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var states []airbyte.StateMessage
		if err := json.Unmarshal(raw, &states); err != nil {
			return nil, err
		}
		return states, nil
	}
	var probe struct {
		Type   string          `json:"type"`
		Stream json.RawMessage `json:"stream"`
		Global json.RawMessage `json:"global"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("want an array of state messages, a state message or a legacy state object: %w", err)
	}
	switch airbyte.StateType(probe.Type) {
	case airbyte.StateStream, airbyte.StateGlobal, airbyte.StateLegacy:
		var s airbyte.StateMessage
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []airbyte.StateMessage{s}, nil
	}
	return []airbyte.StateMessage{{Type: airbyte.StateLegacy, Data: raw}}, nil
}

func writeMessages(out io.Writer, msgs ...*airbyte.Message) error {
	enc := airbyte.NewEncoder(out)
	for _, m := range msgs {
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	return nil
}

// splitCommand splits a command line as a POSIX shell would for words:
// whitespace separates, single quotes keep everything, double quotes keep
// everything but \" and \\, a backslash outside quotes escapes the next
// character. It expands nothing.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	const (
		none = iota
		single
		double
	)
	quote := none
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch quote {
		case single:
			if c == '\'' {
				quote = none
			} else {
				cur.WriteByte(c)
			}
			continue
		case double:
			switch {
			case c == '"':
				quote = none
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case '\'':
			quote, inWord = single, true
		case '"':
			quote, inWord = double, true
		case '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != none {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}
