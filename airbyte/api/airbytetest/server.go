// Package airbytetest runs an in-process stand-in for an Airbyte server's
// public API v1, so that code which triggers and waits for syncs can be
// tested without Airbyte. It answers in the shapes of Airbyte's OpenAPI
// spec: client-credentials tokens that expire, static bearer and basic
// auth, jobs that move through scripted statuses, 409 when a job is already
// running, connections, sources, destinations, workspaces and streams kept
// in memory, and pagination with next links. Faults can be injected per
// endpoint: status codes with Retry-After, responses that never come,
// connections that are reset, and responses lost after the request took
// effect.
//
// The shortest use:
//
//	srv := airbytetest.NewServer(nil)
//	defer srv.Close()
//	conn := srv.AddConnection("orders")
//	c, _ := api.New(srv.URL, api.WithClientCredentials(srv.ClientID(), srv.ClientSecret()))
//	job, err := c.SyncAndWait(ctx, conn.ID, nil)
package airbytetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dataopskit/dataops/airbyte/api"
)

// Options configures a Server. The zero value (or nil) serves under
// /api/public/v1, accepts client id "test-client" with secret
// "test-secret", issues tokens that live 180 s (as Airbyte's do), and runs
// each job through pending, running and succeeded, one step per GET of the
// job.
type Options struct {
	// Prefix is the path of the API on the server (default
	// api.SelfHostedPath). Use "/v1" to look like Airbyte Cloud.
	Prefix string
	// ClientID and ClientSecret are the accepted client credentials.
	ClientID, ClientSecret string
	// BearerToken, if set, is accepted as a static token.
	BearerToken string
	// Username and Password, if set, are accepted as basic auth.
	Username, Password string
	// TokenLifetime is the expires_in of issued tokens (default 180 s).
	TokenLifetime time.Duration
	// Now is the clock for token expiry (default time.Now).
	Now func() time.Time
	// JobStatuses is the sequence each new job goes through, one step per
	// GET /jobs/{id}; the last one stays (default pending, running,
	// succeeded).
	JobStatuses []api.JobStatus
	// ValidateRequest, if set, checks each request (its URL path relative
	// to the prefix); an error is answered with 400 and recorded (see
	// Problems). OpenAPI.ValidateRequest is one.
	ValidateRequest func(r *http.Request, body []byte) error
	// ValidateResponse, if set, checks each response the server sends; an
	// error is recorded (see Problems). OpenAPI.ValidateResponse is one.
	ValidateResponse func(r *http.Request, status int, body []byte) error
}

// Fault is an injected failure.
type Fault struct {
	// Status is the HTTP status to answer with (with Body, or a problem
	// document when Body is empty) and RetryAfter its Retry-After header.
	Status     int
	RetryAfter string
	Body       string
	// Hang holds the response until the client gives up or the server
	// closes.
	Hang bool
	// Reset closes the connection without a response.
	Reset bool
	// AfterEffect lets the request take effect before the fault replaces
	// its response, as when a job is created but the answer is lost.
	AfterEffect bool
}

// Request is a request the server received. Auth is "bearer", "basic" or
// "" — never the credential itself.
type Request struct {
	Method string
	Path   string // relative to the prefix
	Query  url.Values
	Body   []byte
	Auth   string
}

type fault struct {
	method, path string
	times        int
	f            Fault
}

type job struct {
	api.Job
	step    int
	created time.Time
	updated time.Time
}

// Server is an in-process Airbyte public API. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL of the API, prefix included.
	URL string

	opts Options
	srv  *httptest.Server
	done chan struct{} // closed by Close, ends hanging responses
	once sync.Once

	mu           sync.Mutex
	seq          int
	tokens       map[string]time.Time
	tokensIssued int
	faults       []*fault
	requests     []Request
	problems     []error
	jobs         []*job
	connections  map[string]*api.Connection
	sources      map[string]*api.Source
	destinations map[string]*api.Destination
	workspaces   map[string]*api.Workspace
	streams      map[string][]api.StreamProperties
}

// NewServer starts a server. Close it when done.
func NewServer(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = api.SelfHostedPath
	}
	o.Prefix = "/" + strings.Trim(o.Prefix, "/")
	if o.ClientID == "" {
		o.ClientID, o.ClientSecret = "test-client", "test-secret"
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = 180 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(o.JobStatuses) == 0 {
		o.JobStatuses = []api.JobStatus{api.JobPending, api.JobRunning, api.JobSucceeded}
	}
	s := &Server{
		opts:         o,
		tokens:       map[string]time.Time{},
		connections:  map[string]*api.Connection{},
		sources:      map[string]*api.Source{},
		destinations: map[string]*api.Destination{},
		workspaces:   map[string]*api.Workspace{},
		streams:      map[string][]api.StreamProperties{},
		done:         make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + o.Prefix
	return s
}

// Close shuts the server down. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// ClientID returns the accepted client id.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the accepted client secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Inject makes the next `times` requests that match method and path (relative
// to the prefix; a trailing "*" matches any rest) fail with f.
func (s *Server) Inject(method, path string, times int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, path: path, times: times, f: f})
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests matched method and path (as in Inject).
func (s *Server) Count(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && pathMatch(path, r.Path) {
			n++
		}
	}
	return n
}

// TokensIssued returns how many access tokens the server has issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// RevokeTokens invalidates every issued access token.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Problems returns what the validators found wrong with requests and
// responses.
func (s *Server) Problems() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// SetJobStatuses replaces the status sequence of jobs created from now on.
func (s *Server) SetJobStatuses(statuses ...api.JobStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.JobStatuses = slices.Clone(statuses)
}

// Jobs returns every job as it stands now.
func (s *Server) Jobs() []api.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]api.Job, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = j.Job
	}
	return out
}

// StartJob starts a job as Airbyte's scheduler would, without a request.
func (s *Server) StartJob(connectionID string, t api.JobType) api.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newJob(connectionID, t).Job
}

// AddConnection creates a workspace, source, destination and a connection
// between them named name, and returns the connection.
func (s *Server) AddConnection(name string) api.Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.addWorkspace(api.Workspace{Name: name + " workspace"})
	src := s.addSource(api.Source{Name: name + " source", SourceType: "postgres", WorkspaceID: ws.ID, Configuration: json.RawMessage(`{"sourceType":"postgres"}`)})
	dst := s.addDestination(api.Destination{Name: name + " destination", DestinationType: "duckdb", WorkspaceID: ws.ID, Configuration: json.RawMessage(`{"destinationType":"duckdb"}`)})
	return *s.addConnection(name, src.ID, dst.ID, nil)
}

// SetStreams sets the streams that GET /streams reports for a source.
func (s *Server) SetStreams(sourceID string, streams []api.StreamProperties) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams[sourceID] = streams
}

// --- state (callers hold s.mu) ---

func (s *Server) uuid() string {
	s.seq++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", s.seq, s.seq)
}

func (s *Server) addWorkspace(w api.Workspace) *api.Workspace {
	w.ID = s.uuid()
	if w.DataResidency == "" {
		w.DataResidency = "auto"
	}
	if w.Notifications == nil {
		w.Notifications = json.RawMessage(`{}`)
	}
	s.workspaces[w.ID] = &w
	return &w
}

func (s *Server) addSource(src api.Source) *api.Source {
	src.ID = s.uuid()
	src.DefinitionID = s.uuid()
	src.CreatedAt = s.opts.Now().Unix()
	s.sources[src.ID] = &src
	return &src
}

func (s *Server) addDestination(d api.Destination) *api.Destination {
	d.ID = s.uuid()
	d.DefinitionID = s.uuid()
	d.CreatedAt = s.opts.Now().Unix()
	s.destinations[d.ID] = &d
	return &d
}

func (s *Server) addConnection(name, srcID, dstID string, req *api.ConnectionCreate) *api.Connection {
	c := &api.Connection{
		ID: s.uuid(), Name: name, SourceID: srcID, DestinationID: dstID,
		WorkspaceID: s.sources[srcID].WorkspaceID, Status: "active",
		Schedule: api.Schedule{ScheduleType: "manual"}, NamespaceDefinition: "destination",
		NonBreakingSchemaUpdatesBehavior: "ignore", CreatedAt: s.opts.Now().Unix(), Tags: []api.Tag{},
	}
	if req != nil {
		if req.Configurations != nil {
			c.Configurations = *req.Configurations
		}
		if req.Schedule != nil {
			c.Schedule = *req.Schedule
		}
		if req.Status != "" {
			c.Status = req.Status
		}
		c.Prefix = req.Prefix
	}
	if c.Name == "" {
		c.Name = s.sources[srcID].Name + " → " + s.destinations[dstID].Name
	}
	s.connections[c.ID] = c
	return c
}

func (s *Server) newJob(connectionID string, t api.JobType) *job {
	now := s.opts.Now()
	j := &job{Job: api.Job{
		ID: int64(len(s.jobs) + 1), Status: s.opts.JobStatuses[0], Type: t, ConnectionID: connectionID,
		StartTime: now.UTC().Format(time.RFC3339), LastUpdatedAt: now.UTC().Format(time.RFC3339),
	}, created: now, updated: now}
	// Keep the order of creation stable even when the clock stands still.
	j.created = j.created.Add(time.Duration(j.ID))
	j.updated = j.created
	s.jobs = append(s.jobs, j)
	return j
}

// advance moves a job one step along the script.
func (s *Server) advance(j *job) {
	if j.Status.Terminal() {
		return
	}
	script := s.opts.JobStatuses
	if j.step+1 < len(script) {
		j.step++
		j.Status = script[j.step]
	}
	j.RowsSynced += 100
	j.BytesSynced += 4096
	j.updated = s.opts.Now().Add(time.Duration(j.ID))
	j.LastUpdatedAt = j.updated.UTC().Format(time.RFC3339)
	j.Duration = fmt.Sprintf("PT%dS", j.step)
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// --- HTTP ---

type recorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, ok := strings.CutPrefix(r.URL.Path, s.opts.Prefix)
	if !ok || path == "" {
		path = "/"
	}
	rec := Request{Method: r.Method, Path: path, Query: r.URL.Query(), Body: body}
	if h := r.Header.Get("Authorization"); h != "" {
		rec.Auth = strings.ToLower(strings.SplitN(h, " ", 2)[0])
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	var f *Fault
	for _, ft := range s.faults {
		if ft.times > 0 && ft.method == r.Method && pathMatch(ft.path, path) {
			ft.times--
			f = &ft.f
			break
		}
	}
	s.mu.Unlock()

	if f != nil && !f.AfterEffect {
		s.fail(w, r, *f)
		return
	}
	// The validators see the request with its path relative to the prefix.
	rel := r.Clone(r.Context())
	rel.URL.Path, rel.URL.RawPath = path, ""
	out := &recorder{header: http.Header{}}
	if !ok {
		writeProblem(out, http.StatusNotFound, "not-found", "no API under "+r.URL.Path)
	} else if v := s.opts.ValidateRequest; v != nil {
		if err := v(rel, body); err != nil {
			s.problem(fmt.Errorf("request %s %s: %w", r.Method, path, err))
			writeProblem(out, http.StatusBadRequest, "bad-request", err.Error())
		} else {
			s.route(out, r, path, body)
		}
	} else {
		s.route(out, r, path, body)
	}
	if v := s.opts.ValidateResponse; v != nil && ok {
		if err := v(rel, out.status, out.body.Bytes()); err != nil {
			s.problem(fmt.Errorf("response %d to %s %s: %w", out.status, r.Method, path, err))
		}
	}
	if f != nil {
		s.fail(w, r, *f)
		return
	}
	for k, v := range out.header {
		w.Header()[k] = v
	}
	w.WriteHeader(out.status)
	_, _ = w.Write(out.body.Bytes())
}

func (s *Server) problem(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, err)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, f Fault) {
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case f.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body != "" {
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	rec := &recorder{header: http.Header{}}
	writeProblem(rec, f.Status, strings.ToLower(strings.ReplaceAll(http.StatusText(f.Status), " ", "-")), "injected fault")
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(f.Status)
	_, _ = w.Write(rec.body.Bytes())
}

func pathMatch(pattern, path string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, p)
	}
	return pattern == path
}

func writeJSON(out *recorder, status int, v any) {
	out.status = status
	out.header.Set("Content-Type", "application/json")
	_ = json.NewEncoder(&out.body).Encode(v)
}

// writeProblem answers with problem details in the shape of Airbyte's
// public API errors.
func writeProblem(out *recorder, status int, title, detail string) {
	out.status = status
	out.header.Set("Content-Type", "application/problem+json")
	_ = json.NewEncoder(&out.body).Encode(map[string]any{
		"type":   "https://reference.airbyte.com/reference/errors#" + title,
		"title":  title,
		"status": status,
		"detail": detail,
	})
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if u, p, ok := r.BasicAuth(); ok {
		return s.opts.Username != "" && u == s.opts.Username && p == s.opts.Password
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	if s.opts.BearerToken != "" && tok == s.opts.BearerToken {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.opts.Now().Before(exp)
}

func (s *Server) route(out *recorder, r *http.Request, path string, body []byte) {
	switch {
	case path == "/health" && r.Method == http.MethodGet:
		out.status = http.StatusOK
		return
	case path == "/applications/token" && r.Method == http.MethodPost:
		s.token(out, body)
		return
	}
	if !s.authorized(r) {
		writeProblem(out, http.StatusUnauthorized, "unauthorized", "missing, invalid or expired credentials")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := strings.Split(strings.Trim(path, "/"), "/")
	id := ""
	if len(seg) == 2 {
		id = seg[1]
	} else if len(seg) > 2 {
		writeProblem(out, http.StatusNotFound, "not-found", "no route "+path)
		return
	}
	switch seg[0] {
	case "jobs":
		s.routeJobs(out, r, id, body)
	case "connections":
		s.routeConnections(out, r, id, body)
	case "sources":
		routeActor(s, out, r, id, body, s.sources, "source", func(m map[string]any) *api.Source {
			src := api.Source{Name: str(m["name"]), WorkspaceID: str(m["workspaceId"]), DefinitionID: str(m["definitionId"])}
			src.Configuration, src.SourceType = config(m, "sourceType")
			if src.WorkspaceID == "" {
				src.WorkspaceID = s.uuid()
			}
			return s.addSource(src)
		}, func(src *api.Source, m map[string]any) {
			if n := str(m["name"]); n != "" {
				src.Name = n
			}
			if _, ok := m["configuration"]; ok {
				src.Configuration, _ = config(m, "sourceType")
			}
		})
	case "destinations":
		routeActor(s, out, r, id, body, s.destinations, "destination", func(m map[string]any) *api.Destination {
			d := api.Destination{Name: str(m["name"]), WorkspaceID: str(m["workspaceId"]), DefinitionID: str(m["definitionId"])}
			d.Configuration, d.DestinationType = config(m, "destinationType")
			return s.addDestination(d)
		}, func(d *api.Destination, m map[string]any) {
			if n := str(m["name"]); n != "" {
				d.Name = n
			}
			if _, ok := m["configuration"]; ok {
				d.Configuration, _ = config(m, "destinationType")
			}
		})
	case "workspaces":
		routeActor(s, out, r, id, body, s.workspaces, "workspace", func(m map[string]any) *api.Workspace {
			return s.addWorkspace(api.Workspace{Name: str(m["name"])})
		}, func(w *api.Workspace, m map[string]any) {
			if n := str(m["name"]); n != "" {
				w.Name = n
			}
		})
	case "streams":
		if r.Method != http.MethodGet || id != "" {
			writeProblem(out, http.StatusMethodNotAllowed, "method-not-allowed", r.Method+" "+path)
			return
		}
		src := r.URL.Query().Get("sourceId")
		if _, ok := s.sources[src]; !ok {
			writeProblem(out, http.StatusNotFound, "resource-not-found", "source "+src+" not found")
			return
		}
		streams, ok := s.streams[src]
		if !ok {
			streams = []api.StreamProperties{{StreamName: "records", SyncModes: []string{"full_refresh_overwrite", "incremental_append"}, DefaultCursorField: []string{"updated_at"}, SourceDefinedPrimaryKey: [][]string{{"id"}}}}
		}
		writeJSON(out, http.StatusOK, streams)
	default:
		writeProblem(out, http.StatusNotFound, "not-found", "no route "+path)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// config returns the configuration of a create or update request and the
// connector type it names.
func config(m map[string]any, typeKey string) (json.RawMessage, string) {
	cfg, _ := m["configuration"].(map[string]any)
	raw, _ := json.Marshal(cfg)
	return raw, str(cfg[typeKey])
}

func (s *Server) token(out *recorder, body []byte) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		writeProblem(out, http.StatusBadRequest, "bad-request", "token request is not JSON")
		return
	}
	grant := str(req["grant-type"])
	if grant == "" {
		grant = str(req["grant_type"])
	}
	if grant != "client_credentials" {
		writeProblem(out, http.StatusBadRequest, "bad-request", "grant-type must be client_credentials")
		return
	}
	if str(req["client_id"]) != s.opts.ClientID || str(req["client_secret"]) != s.opts.ClientSecret {
		writeProblem(out, http.StatusUnauthorized, "unauthorized", "invalid client credentials")
		return
	}
	s.mu.Lock()
	tok := newToken()
	s.tokens[tok] = s.opts.Now().Add(s.opts.TokenLifetime)
	s.tokensIssued++
	s.mu.Unlock()
	writeJSON(out, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int64(s.opts.TokenLifetime / time.Second),
	})
}

func decodeBody(out *recorder, body []byte) (map[string]any, bool) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		writeProblem(out, http.StatusBadRequest, "bad-request", "request body is not a JSON object")
		return nil, false
	}
	return m, true
}

// pageParams reads limit and offset as Airbyte does (limit 1–100, default
// 20; offset ≥ 0).
func pageParams(out *recorder, q url.Values) (limit, offset int, ok bool) {
	limit, offset = 20, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeProblem(out, http.StatusBadRequest, "bad-request", "limit must be between 1 and 100")
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeProblem(out, http.StatusBadRequest, "bad-request", "offset must be at least 0")
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

// writePage answers a list request with one page of items and links.
func writePage[T any](out *recorder, r *http.Request, items []T, limit, offset int) {
	end := min(offset+limit, len(items))
	data := []T{}
	if offset < len(items) {
		data = items[offset:end]
	}
	resp := map[string]any{"data": data}
	link := func(off int) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		q := r.URL.Query()
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(off))
		u.RawQuery = q.Encode()
		return u.String()
	}
	if end < len(items) {
		resp["next"] = link(end)
	}
	if offset > 0 {
		resp["previous"] = link(max(offset-limit, 0))
	}
	writeJSON(out, http.StatusOK, resp)
}

func (s *Server) routeJobs(out *recorder, r *http.Request, id string, body []byte) {
	if id == "" {
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query()
			limit, offset, ok := pageParams(out, q)
			if !ok {
				return
			}
			var list []*job
			for _, j := range s.jobs {
				if c := q.Get("connectionId"); c != "" && j.ConnectionID != c {
					continue
				}
				if t := q.Get("jobType"); t != "" && string(j.Type) != t {
					continue
				}
				if st := q.Get("status"); st != "" && string(j.Status) != st {
					continue
				}
				list = append(list, j)
			}
			field, dir, _ := strings.Cut(q.Get("orderBy"), "|")
			slices.SortStableFunc(list, func(a, b *job) int {
				x, y := a.created, b.created
				if field == "updatedAt" {
					x, y = a.updated, b.updated
				}
				if dir == "DESC" {
					x, y = y, x
				}
				return x.Compare(y)
			})
			items := make([]api.Job, len(list))
			for i, j := range list {
				items[i] = j.Job
			}
			writePage(out, r, items, limit, offset)
		case http.MethodPost:
			m, ok := decodeBody(out, body)
			if !ok {
				return
			}
			cid, typ := str(m["connectionId"]), api.JobType(str(m["jobType"]))
			if _, ok := s.connections[cid]; !ok {
				writeProblem(out, http.StatusNotFound, "resource-not-found", "connection "+cid+" not found")
				return
			}
			for _, j := range s.jobs {
				if j.ConnectionID == cid && !j.Status.Terminal() {
					writeProblem(out, http.StatusConflict, "state-conflict", "A sync is already running for: "+cid)
					return
				}
			}
			writeJSON(out, http.StatusOK, s.newJob(cid, typ).Job)
		default:
			writeProblem(out, http.StatusMethodNotAllowed, "method-not-allowed", r.Method+" /jobs")
		}
		return
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 || int(n) > len(s.jobs) {
		writeProblem(out, http.StatusNotFound, "resource-not-found", "job "+id+" not found")
		return
	}
	j := s.jobs[n-1]
	switch r.Method {
	case http.MethodGet:
		s.advance(j)
	case http.MethodDelete:
		if j.Status.Terminal() {
			writeProblem(out, http.StatusConflict, "state-conflict", "job "+id+" has already ended")
			return
		}
		j.Status = api.JobCancelled
	default:
		writeProblem(out, http.StatusMethodNotAllowed, "method-not-allowed", r.Method+" /jobs/"+id)
		return
	}
	writeJSON(out, http.StatusOK, j.Job)
}

func (s *Server) routeConnections(out *recorder, r *http.Request, id string, body []byte) {
	if id == "" {
		switch r.Method {
		case http.MethodGet:
			limit, offset, ok := pageParams(out, r.URL.Query())
			if !ok {
				return
			}
			writePage(out, r, sorted(s.connections, r.URL.Query()["workspaceIds"], func(c *api.Connection) string { return c.WorkspaceID }), limit, offset)
		case http.MethodPost:
			var req api.ConnectionCreate
			if err := json.Unmarshal(body, &req); err != nil {
				writeProblem(out, http.StatusBadRequest, "bad-request", "invalid connection: "+err.Error())
				return
			}
			if s.sources[req.SourceID] == nil || s.destinations[req.DestinationID] == nil {
				writeProblem(out, http.StatusBadRequest, "bad-request", "unknown source or destination")
				return
			}
			writeJSON(out, http.StatusOK, s.addConnection(req.Name, req.SourceID, req.DestinationID, &req))
		default:
			writeProblem(out, http.StatusMethodNotAllowed, "method-not-allowed", r.Method+" /connections")
		}
		return
	}
	c, ok := s.connections[id]
	if !ok {
		writeProblem(out, http.StatusNotFound, "resource-not-found", "connection "+id+" not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(out, http.StatusOK, c)
	case http.MethodPatch:
		var req api.ConnectionUpdate
		if err := json.Unmarshal(body, &req); err != nil {
			writeProblem(out, http.StatusBadRequest, "bad-request", "invalid connection update: "+err.Error())
			return
		}
		if req.Name != "" {
			c.Name = req.Name
		}
		if req.Status != "" {
			c.Status = req.Status
		}
		if req.Schedule != nil {
			c.Schedule = *req.Schedule
		}
		if req.Configurations != nil {
			c.Configurations = *req.Configurations
		}
		if req.Prefix != "" {
			c.Prefix = req.Prefix
		}
		writeJSON(out, http.StatusOK, c)
	case http.MethodDelete:
		delete(s.connections, id)
		out.status = http.StatusNoContent
	default:
		writeProblem(out, http.StatusMethodNotAllowed, "method-not-allowed", r.Method+" /connections/"+id)
	}
}

// sorted lists a map's values in id order, keeping those in the given
// workspaces (all when none are given).
func sorted[T any](m map[string]*T, workspaces []string, ws func(*T) string) []*T {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if len(workspaces) == 0 || slices.Contains(workspaces, ws(v)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]*T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// routeActor serves the list/get/create/update/delete endpoints of sources,
// destinations and workspaces.
func routeActor[T any](s *Server, out *recorder, r *http.Request, id string, body []byte, m map[string]*T, kind string,
	create func(map[string]any) *T, update func(*T, map[string]any)) {
	if id == "" {
		switch r.Method {
		case http.MethodGet:
			limit, offset, ok := pageParams(out, r.URL.Query())
			if !ok {
				return
			}
			writePage(out, r, sorted(m, r.URL.Query()["workspaceIds"], func(v *T) string { return workspaceOf(v) }), limit, offset)
		case http.MethodPost:
			req, ok := decodeBody(out, body)
			if !ok {
				return
			}
			writeJSON(out, http.StatusOK, create(req))
		default:
			writeProblem(out, http.StatusMethodNotAllowed, "method-not-allowed", r.Method)
		}
		return
	}
	v, ok := m[id]
	if !ok {
		writeProblem(out, http.StatusNotFound, "resource-not-found", kind+" "+id+" not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(out, http.StatusOK, v)
	case http.MethodPatch, http.MethodPut:
		req, ok := decodeBody(out, body)
		if !ok {
			return
		}
		update(v, req)
		writeJSON(out, http.StatusOK, v)
	case http.MethodDelete:
		delete(m, id)
		out.status = http.StatusNoContent
	default:
		writeProblem(out, http.StatusMethodNotAllowed, "method-not-allowed", r.Method)
	}
}

func workspaceOf(v any) string {
	switch x := v.(type) {
	case *api.Source:
		return x.WorkspaceID
	case *api.Destination:
		return x.WorkspaceID
	case *api.Workspace:
		return x.ID
	}
	return ""
}
