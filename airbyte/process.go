package airbyte

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Command is an Airbyte connector run as a local process: the verb and its
// flags (spec, check --config F, discover --config F, read --config F
// --catalog F [--state F]) are appended to Path and Args.
type Command struct {
	Path string   // the executable; looked up in PATH when it has no slash
	Args []string // arguments before the verb, e.g. ["-m", "source_x"]
	Env  []string // "KEY=value" entries added to the current environment
	Dir  string   // working directory; empty means the current one
}

// ErrDockerNotFound means an image connector was asked for but the docker
// command is not installed.
var ErrDockerNotFound = errors.New("docker command not found")

// ConnectorError is how a connector failed: the TRACE ERROR it reported
// and/or its exit code, with the last lines it wrote to stderr.
type ConnectorError struct {
	Connector string // e.g. "python -m source_x" or "airbyte/source-faker:6.2"
	Verb      string // spec, check, discover or read
	// FailureType comes from the connector's TRACE ERROR; a connector that
	// just exits non-zero is a FailureSystem.
	FailureType     FailureType
	Message         string            // the TRACE ERROR's message, or what went wrong
	InternalMessage string            // the TRACE ERROR's internal_message
	Stream          *StreamDescriptor // the stream the error is about, if known
	ExitCode        int               // -1 if the process was killed or did not start
	Stderr          []string          // the last lines of stderr, oldest first
	Err             error             // the underlying error, if any
}

// Error renders the connector, verb, failure type, message, exit code and
// the last stderr lines.
func (e *ConnectorError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connector %s %s failed", e.Connector, e.Verb)
	if e.FailureType != "" {
		fmt.Fprintf(&b, " (%s)", e.FailureType)
	}
	if e.Stream != nil {
		fmt.Fprintf(&b, " on stream %s", e.Stream)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.InternalMessage != "" {
		fmt.Fprintf(&b, " [%s]", e.InternalMessage)
	}
	if e.ExitCode != 0 {
		fmt.Fprintf(&b, "; exit code %d", e.ExitCode)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, "; %v", e.Err)
	}
	if len(e.Stderr) > 0 {
		b.WriteString("; last stderr lines:\n  ")
		b.WriteString(strings.Join(e.Stderr, "\n  "))
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ConnectorError) Unwrap() error { return e.Err }

// ProcessOption configures a ProcessSource.
type ProcessOption func(*ProcessSource)

// WithLogger sends the connector's stderr lines and LOG messages to l
// (default: discarded).
func WithLogger(l *slog.Logger) ProcessOption {
	return func(p *ProcessSource) {
		if l != nil {
			p.log = l
		}
	}
}

// WithControlHandler calls fn with every CONTROL message, in particular
// CONNECTOR_CONFIG messages that carry a new config (rotated credentials)
// which the caller must persist. It is called before the message is
// yielded, for every verb. During Read the message is also yielded.
func WithControlHandler(fn func(ctx context.Context, m *ControlMessage)) ProcessOption {
	return func(p *ProcessSource) { p.onControl = fn }
}

// WithStderrTail sets how many of the last stderr lines a ConnectorError
// carries (default 20).
func WithStderrTail(n int) ProcessOption {
	return func(p *ProcessSource) {
		if n >= 0 {
			p.tail = n
		}
	}
}

// WithEnv adds "KEY=value" entries to the connector's environment (for an
// image: passed into the container with docker run -e KEY).
func WithEnv(kv ...string) ProcessOption {
	return func(p *ProcessSource) { p.cmd.Env = append(slices.Clip(p.cmd.Env), kv...) }
}

// WithTempDir sets where the config, catalog and state files are written
// (default os.TempDir()).
func WithTempDir(dir string) ProcessOption { return func(p *ProcessSource) { p.tempDir = dir } }

// WithoutConfigValidation skips validating configs against the spec before
// check, discover and read (which otherwise costs one spec run per source).
func WithoutConfigValidation() ProcessOption { return func(p *ProcessSource) { p.noValidate = true } }

// WithDocker sets the docker executable and extra "docker run" arguments
// (placed before the image) for image connectors.
func WithDocker(path string, runArgs ...string) ProcessOption {
	return func(p *ProcessSource) {
		if path != "" {
			p.docker = path
		}
		p.dockerArgs = append(p.dockerArgs, runArgs...)
	}
}

// ProcessSource runs an Airbyte connector — a local command or a docker
// image — as a Source. Every call starts a new process. The config,
// configured catalog and state are written to files readable only by the
// owner (0600) in a fresh temporary directory, removed when the process has
// ended. The connector's stdout is decoded as protocol messages (garbage
// lines become LOG messages), its stderr goes to the logger and the last
// lines are kept for errors. A TRACE ERROR or a non-zero exit becomes a
// *ConnectorError. Cancelling the context kills the connector's whole
// process group.
type ProcessSource struct {
	cmd        Command
	image      string
	name       string
	log        *slog.Logger
	onControl  func(context.Context, *ControlMessage)
	tail       int
	tempDir    string
	noValidate bool
	docker     string
	dockerArgs []string

	mu   sync.Mutex
	spec *ConnectorSpecification
}

// NewProcessSource returns a Source that runs cmd.
func NewProcessSource(cmd Command, opts ...ProcessOption) *ProcessSource {
	p := &ProcessSource{cmd: cmd, name: strings.Join(append([]string{cmd.Path}, cmd.Args...), " ")}
	return p.apply(opts)
}

// NewDockerSource returns a Source that runs image with
// "docker run --rm -i", mounting the directory of the config, catalog and
// state files read-only at /config.
func NewDockerSource(image string, opts ...ProcessOption) *ProcessSource {
	p := &ProcessSource{image: image, name: image, docker: "docker"}
	return p.apply(opts)
}

func (p *ProcessSource) apply(opts []ProcessOption) *ProcessSource {
	p.log = slog.New(slog.DiscardHandler)
	p.tail = 20
	for _, o := range opts {
		o(p)
	}
	return p
}

// String names the connector.
func (p *ProcessSource) String() string { return p.name }

// Spec runs "spec" and returns the connector's specification.
func (p *ProcessSource) Spec(ctx context.Context) (*ConnectorSpecification, error) {
	var spec *ConnectorSpecification
	err := p.runOnce(ctx, "spec", nil, func(m *Message) {
		if m.Type == TypeSpec {
			spec = m.Spec
		}
	})
	if err == nil && spec == nil {
		err = &ConnectorError{Connector: p.name, Verb: "spec", FailureType: FailureSystem, Message: "the connector printed no SPEC message"}
	}
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.spec = spec
	p.mu.Unlock()
	return spec, nil
}

// Check validates config against the spec, runs "check" and returns the
// connection status. A FAILED status is not an error; a connector crash is.
func (p *ProcessSource) Check(ctx context.Context, config json.RawMessage) (*ConnectionStatus, error) {
	if err := p.validate(ctx, config); err != nil {
		return nil, err
	}
	var status *ConnectionStatus
	err := p.runOnce(ctx, "check", map[string][]byte{"config": config}, func(m *Message) {
		if m.Type == TypeConnectionStatus {
			status = m.ConnectionStatus
		}
	})
	if status != nil {
		var ce *ConnectorError
		if err == nil || (errors.As(err, &ce) && ce.ExitCode != -1 && status.Status == StatusFailed) {
			// A connector that reports FAILED and exits non-zero still
			// answered the question.
			return status, nil
		}
	}
	if err == nil {
		err = &ConnectorError{Connector: p.name, Verb: "check", FailureType: FailureSystem, Message: "the connector printed no CONNECTION_STATUS message"}
	}
	return nil, err
}

// Discover validates config against the spec, runs "discover" and returns
// the catalog.
func (p *ProcessSource) Discover(ctx context.Context, config json.RawMessage) (*Catalog, error) {
	if err := p.validate(ctx, config); err != nil {
		return nil, err
	}
	var catalog *Catalog
	err := p.runOnce(ctx, "discover", map[string][]byte{"config": config}, func(m *Message) {
		if m.Type == TypeCatalog {
			catalog = m.Catalog
		}
	})
	if err == nil && catalog == nil {
		err = &ConnectorError{Connector: p.name, Verb: "discover", FailureType: FailureSystem, Message: "the connector printed no CATALOG message"}
	}
	if err != nil {
		return nil, err
	}
	return catalog, nil
}

// Read validates config against the spec and starts "read". The process
// runs until the stream's messages are consumed, the loop breaks, Close is
// called or ctx is cancelled.
func (p *ProcessSource) Read(ctx context.Context, config json.RawMessage, catalog *ConfiguredCatalog, state []StateMessage) (ReadStream, error) {
	if catalog == nil {
		return nil, fmt.Errorf("airbyte: read %s: no configured catalog", p.name)
	}
	if err := p.validate(ctx, config); err != nil {
		return nil, err
	}
	files := map[string][]byte{"config": config}
	cat, err := json.Marshal(catalog)
	if err != nil {
		return nil, fmt.Errorf("airbyte: read %s: encode catalog: %w", p.name, err)
	}
	files["catalog"] = cat
	if len(state) > 0 {
		st, err := encodeStateFile(state)
		if err != nil {
			return nil, fmt.Errorf("airbyte: read %s: encode state: %w", p.name, err)
		}
		files["state"] = st
	}
	pr, err := p.start(ctx, "read", files)
	if err != nil {
		return nil, err
	}
	return &processStream{p: p, pr: pr, ctx: ctx, catalog: catalog}, nil
}

// encodeStateFile writes states as the Airbyte CLI expects them: an array
// of state messages, or for LEGACY state the bare data of the last one.
func encodeStateFile(states []StateMessage) ([]byte, error) {
	legacy := true
	for _, s := range states {
		if s.Type != StateLegacy && !(s.Type == "" && s.Stream == nil && s.Global == nil) {
			legacy = false
		}
	}
	if legacy {
		data := states[len(states)-1].Data
		if len(data) == 0 {
			data = json.RawMessage("{}")
		}
		return data, nil
	}
	return json.Marshal(states)
}

func (p *ProcessSource) validate(ctx context.Context, config json.RawMessage) error {
	if p.noValidate {
		return nil
	}
	p.mu.Lock()
	spec := p.spec
	p.mu.Unlock()
	if spec == nil {
		var err error
		if spec, err = p.Spec(ctx); err != nil {
			return fmt.Errorf("airbyte: %s: spec for config validation: %w", p.name, err)
		}
	}
	err := ValidateConfig(spec, config)
	var ce *ConfigError
	if errors.As(err, &ce) && ce.Connector == "" {
		ce.Connector = p.name
	}
	return err
}

// runOnce runs a verb to completion, calling fn for every message.
func (p *ProcessSource) runOnce(ctx context.Context, verb string, files map[string][]byte, fn func(*Message)) error {
	pr, err := p.start(ctx, verb, files)
	if err != nil {
		return err
	}
	for {
		m, err := pr.dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			pr.kill()
			_ = pr.wait()
			return pr.failure(ctx, err)
		}
		p.observe(ctx, pr, m)
		fn(m)
	}
	return pr.failure(ctx, pr.wait())
}

// observe logs LOG messages, remembers TRACE ERRORs and hands CONTROL
// messages to the handler.
func (p *ProcessSource) observe(ctx context.Context, pr *proc, m *Message) {
	switch m.Type {
	case TypeLog:
		p.log.Log(ctx, slogLevel(m.Log.Level), m.Log.Message, "connector", p.name, "verb", pr.verb)
	case TypeTrace:
		if m.Trace.Type == TraceError && m.Trace.Error != nil && pr.trace == nil {
			pr.trace = m.Trace.Error
		}
	case TypeControl:
		if p.onControl != nil {
			p.onControl(ctx, m.Control)
		}
	}
}

func slogLevel(l LogLevel) slog.Level {
	switch l {
	case LogFatal, LogError:
		return slog.LevelError
	case LogWarn:
		return slog.LevelWarn
	case LogDebug, LogTrace:
		return slog.LevelDebug
	default:
		return slog.LevelInfo
	}
}

// argv builds the command line for verb, with the files in dir; container
// names the docker container of an image connector.
func (p *ProcessSource) argv(verb, dir, container string, files map[string][]byte) []string {
	var args []string
	path := func(name string) string {
		if p.image != "" {
			return "/config/" + name + ".json"
		}
		return filepath.Join(dir, name+".json")
	}
	if p.image != "" {
		args = append(args, p.docker, "run", "--rm", "-i", "--init", "--log-driver", "none",
			"--name", container, "-v", dir+":/config:ro", "-w", "/config")
		for _, kv := range p.cmd.Env {
			k, _, _ := strings.Cut(kv, "=")
			args = append(args, "-e", k) // the value travels in docker's environment, not its argv
		}
		args = append(args, p.dockerArgs...)
		args = append(args, p.image)
	} else {
		args = append(args, p.cmd.Path)
		args = append(args, p.cmd.Args...)
	}
	args = append(args, verb)
	for _, name := range []string{"config", "catalog", "state"} {
		if _, ok := files[name]; ok {
			args = append(args, "--"+name, path(name))
		}
	}
	return args
}

// proc is one running connector process.
type proc struct {
	p          *ProcessSource
	verb       string
	cmd        *exec.Cmd
	cancel     context.CancelFunc
	dec        *Decoder
	dir        string
	stderrDone chan struct{}
	tailMu     sync.Mutex
	tail       []string
	trace      *ErrorTrace
	waitOnce   sync.Once
	waitErr    error
}

// start writes the files and starts the process.
func (p *ProcessSource) start(ctx context.Context, verb string, files map[string][]byte) (*proc, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("airbyte: %s %s: %w", p.name, verb, err)
	}
	if p.image != "" {
		if _, err := exec.LookPath(p.docker); err != nil {
			return nil, fmt.Errorf("airbyte: run image %s: %w (%q: %v); install Docker or run the connector as a command", p.image, ErrDockerNotFound, p.docker, err)
		}
	} else if p.cmd.Path == "" {
		return nil, fmt.Errorf("airbyte: %s: connector command has no path", verb)
	}
	dir, err := os.MkdirTemp(p.tempDir, "dataops-connector-")
	if err != nil {
		return nil, fmt.Errorf("airbyte: %s %s: temp dir: %w", p.name, verb, err)
	}
	for name, data := range files {
		if len(data) == 0 {
			data = []byte("{}")
		}
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("airbyte: %s %s: write %s: %w", p.name, verb, path, err)
		}
	}
	container := "dataops-" + randomHex()
	argv := p.argv(verb, dir, container, files)
	runCtx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Dir = p.cmd.Dir
	if len(p.cmd.Env) > 0 {
		cmd.Env = append(os.Environ(), p.cmd.Env...)
	}
	ownProcessGroup(cmd)
	pr := &proc{p: p, verb: verb, cmd: cmd, cancel: cancel, dir: dir, stderrDone: make(chan struct{})}
	cmd.Cancel = func() error {
		// The whole group: the connector and anything it started.
		err := killProcessGroup(cmd)
		if p.image != "" {
			// Killing the docker client does not stop the container.
			stop := exec.Command(p.docker, "kill", container)
			stop.Stdout, stop.Stderr = io.Discard, io.Discard
			_ = stop.Start()
			go func() { _ = stop.Wait() }()
		}
		return err
	}
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("airbyte: %s %s: %w", p.name, verb, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("airbyte: %s %s: %w", p.name, verb, err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, &ConnectorError{Connector: p.name, Verb: verb, FailureType: FailureSystem, Message: "could not start the connector", ExitCode: -1, Err: err}
	}
	pr.dec = NewDecoder(stdout, Named("stdout of "+p.name+" "+verb))
	go pr.readStderr(ctx, stderr)
	return pr, nil
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxStderrLine bounds what one stderr line may hold in memory.
const maxStderrLine = 16 << 10

func (pr *proc) readStderr(ctx context.Context, r io.Reader) {
	defer close(pr.stderrDone)
	br := bufio.NewReaderSize(r, 16<<10)
	for {
		line, err := readBoundedLine(br, maxStderrLine)
		if len(line) > 0 || err == nil {
			s := strings.TrimRight(string(line), "\r\n")
			if strings.TrimSpace(s) != "" {
				pr.p.log.Log(ctx, slog.LevelInfo, s, "connector", pr.p.name, "verb", pr.verb, "stderr", true)
				pr.tailMu.Lock()
				if pr.p.tail > 0 {
					if len(pr.tail) == pr.p.tail {
						copy(pr.tail, pr.tail[1:])
						pr.tail = pr.tail[:len(pr.tail)-1]
					}
					pr.tail = append(pr.tail, s)
				}
				pr.tailMu.Unlock()
			}
		}
		if err != nil {
			return
		}
	}
}

// readBoundedLine reads a line, keeping at most max bytes of it (the rest
// is read and dropped).
func readBoundedLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line) < max {
			n := min(len(frag), max-len(line))
			line = append(line, frag[:n]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}

func (pr *proc) kill() { pr.cancel() }

// wait reaps the process after stdout is drained (or the process killed)
// and removes the temporary files. It is safe to call more than once.
func (pr *proc) wait() error {
	pr.waitOnce.Do(func() {
		select {
		case <-pr.stderrDone:
		case <-time.After(pr.cmd.WaitDelay):
			// Something the connector started still holds stderr open.
		}
		pr.waitErr = pr.cmd.Wait()
		pr.cancel()
		if err := os.RemoveAll(pr.dir); err != nil {
			pr.p.log.Warn("could not remove connector files", "dir", pr.dir, "err", err)
		}
	})
	return pr.waitErr
}

func (pr *proc) stderrTail() []string {
	pr.tailMu.Lock()
	defer pr.tailMu.Unlock()
	return append([]string(nil), pr.tail...)
}

// failure turns how the process ended into the error the caller sees.
func (pr *proc) failure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("airbyte: %s %s: %w", pr.p.name, pr.verb, ctx.Err())
	}
	exitCode := 0
	var exitErr *exec.ExitError
	if err != nil {
		exitCode = -1
		if errors.As(err, &exitErr) {
			exitCode = exitErr.ExitCode()
			err = nil
		}
	}
	if pr.trace == nil && exitCode == 0 && err == nil {
		return nil
	}
	ce := &ConnectorError{Connector: pr.p.name, Verb: pr.verb, ExitCode: exitCode, Stderr: pr.stderrTail(), Err: err, FailureType: FailureSystem}
	if t := pr.trace; t != nil {
		ce.Message, ce.InternalMessage, ce.Stream = t.Message, t.InternalMessage, t.StreamDescriptor
		if t.FailureType != "" {
			ce.FailureType = t.FailureType
		}
	} else if exitCode > 0 {
		ce.Message = fmt.Sprintf("exited with code %d", exitCode)
		if pr.p.image != "" && exitCode == 125 {
			ce.Message = "docker could not run the image (exit code 125); is a Docker engine running?"
		}
	} else if exitCode == -1 && err == nil {
		ce.Message = "killed by a signal"
	}
	return ce
}

// processStream is a running read.
type processStream struct {
	p       *ProcessSource
	pr      *proc
	ctx     context.Context
	catalog *ConfiguredCatalog
	mu      sync.Mutex
	started bool
}

// EnableTypedRecords implements TypedReadStream: the data of each record of
// a configured stream is parsed once, as its line is read, straight into
// typed values by the stream's JSON schema (see RecordValues); records with
// fields the schema does not list keep their JSON Data.
func (s *processStream) EnableTypedRecords() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.catalog == nil {
		return false
	}
	s.pr.dec.enableTyped(s.catalog)
	return true
}

// Messages yields the connector's messages. It may be ranged over once.
func (s *processStream) Messages() iter.Seq2[*Message, error] {
	return func(yield func(*Message, error) bool) {
		s.mu.Lock()
		again := s.started
		s.started = true
		s.mu.Unlock()
		if again {
			yield(nil, fmt.Errorf("airbyte: read %s: Messages ranged over twice", s.p.name))
			return
		}
		pr := s.pr
		for {
			m, err := pr.dec.Decode()
			if err == io.EOF {
				if err := pr.failure(s.ctx, pr.wait()); err != nil {
					yield(nil, err)
				}
				return
			}
			if err != nil {
				pr.kill()
				_ = pr.wait()
				yield(nil, pr.failure(s.ctx, err))
				return
			}
			s.p.observe(s.ctx, pr, m)
			if !yield(m, nil) {
				pr.kill()
				_ = pr.wait()
				return
			}
		}
	}
}

// Ack does nothing: a connector process keeps no resources for states.
func (s *processStream) Ack(context.Context, *StateMessage) error { return nil }

// Close kills the connector if it still runs and removes its files.
func (s *processStream) Close() error {
	s.pr.kill()
	_ = s.pr.wait()
	return nil
}

var _ Source = (*ProcessSource)(nil)
