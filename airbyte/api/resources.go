package api

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions selects the sources, destinations, connections or workspaces
// to list. Zero fields do not filter.
type ListOptions struct {
	WorkspaceIDs   []string
	IncludeDeleted bool
	// TagIDs filters connections by tag (connections only).
	TagIDs []string
	// PageSize is the number of items fetched per request (1–100, default
	// 20).
	PageSize int
}

func (o *ListOptions) query() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	for _, w := range o.WorkspaceIDs {
		q.Add("workspaceIds", w)
	}
	for _, t := range o.TagIDs {
		q.Add("tagIds", t)
	}
	if o.IncludeDeleted {
		q.Set("includeDeleted", "true")
	}
	return q
}

func (o *ListOptions) pageSize() int {
	if o == nil {
		return 0
	}
	return o.PageSize
}

// page is the envelope of a list response.
type page[T any] struct {
	Data     []T    `json:"data"`
	Next     string `json:"next,omitempty"`
	Previous string `json:"previous,omitempty"`
}

// paginate walks a list endpoint by limit and offset. It goes on while the
// server offers a next page or returns full pages, and stops at an empty
// page. The offset of the next page is taken from the next link when it has
// one (its host is ignored: behind a proxy it may not be reachable).
func paginate[T any](ctx context.Context, c *Client, path string, q url.Values, pageSize int) iter.Seq2[T, error] {
	if pageSize <= 0 {
		pageSize = 20
	}
	pageSize = min(pageSize, 100)
	return func(yield func(T, error) bool) {
		offset := 0
		for {
			pq := url.Values{}
			for k, v := range q {
				pq[k] = v
			}
			pq.Set("limit", strconv.Itoa(pageSize))
			pq.Set("offset", strconv.Itoa(offset))
			var p page[T]
			if err := c.do(ctx, request{method: http.MethodGet, path: path, query: pq, safe: true}, &p); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			if len(p.Data) == 0 || (p.Next == "" && len(p.Data) < pageSize) {
				return
			}
			next := offset + len(p.Data)
			if p.Next != "" {
				if u, err := url.Parse(p.Next); err == nil {
					if n, err := strconv.Atoi(u.Query().Get("offset")); err == nil && n > offset {
						next = n
					}
				}
			}
			offset = next
		}
	}
}

func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	return c.do(ctx, request{method: http.MethodGet, path: path, query: q, safe: true}, out)
}

func (c *Client) send(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, request{method: method, path: path, body: body, safe: method != http.MethodPost}, out)
}

func (c *Client) del(ctx context.Context, path string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: path, safe: true}, nil)
}

func idPath(prefix, id string) (string, error) {
	if id == "" {
		return "", errors.New("airbyte: empty id")
	}
	return prefix + "/" + url.PathEscape(id), nil
}

// Health checks that the server answers (GET /health, no credentials).
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, request{method: http.MethodGet, path: "/health", safe: true, noAuth: true}, nil)
}

// Connections iterates over connections.
func (c *Client) Connections(ctx context.Context, opts *ListOptions) iter.Seq2[Connection, error] {
	return paginate[Connection](ctx, c, "/connections", opts.query(), opts.pageSize())
}

// GetConnection returns a connection.
func (c *Client) GetConnection(ctx context.Context, id string) (*Connection, error) {
	return getOne[Connection](ctx, c, "/connections", id)
}

// CreateConnection creates a connection. It is not retried when its
// outcome is unknown (see ErrOutcomeUnknown).
func (c *Client) CreateConnection(ctx context.Context, req ConnectionCreate) (*Connection, error) {
	return sendOne[Connection](ctx, c, http.MethodPost, "/connections", req)
}

// UpdateConnection changes the fields of a connection that are set in req.
func (c *Client) UpdateConnection(ctx context.Context, id string, req ConnectionUpdate) (*Connection, error) {
	p, err := idPath("/connections", id)
	if err != nil {
		return nil, err
	}
	return sendOne[Connection](ctx, c, http.MethodPatch, p, req)
}

// DeleteConnection deletes a connection.
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "/connections", id)
}

// Sources iterates over sources.
func (c *Client) Sources(ctx context.Context, opts *ListOptions) iter.Seq2[Source, error] {
	return paginate[Source](ctx, c, "/sources", opts.query(), opts.pageSize())
}

// GetSource returns a source.
func (c *Client) GetSource(ctx context.Context, id string) (*Source, error) {
	return getOne[Source](ctx, c, "/sources", id)
}

// CreateSource creates a source. It is not retried when its outcome is
// unknown (see ErrOutcomeUnknown).
func (c *Client) CreateSource(ctx context.Context, req SourceCreate) (*Source, error) {
	return sendOne[Source](ctx, c, http.MethodPost, "/sources", req)
}

// UpdateSource changes the fields of a source that are set in req (PATCH).
func (c *Client) UpdateSource(ctx context.Context, id string, req SourceUpdate) (*Source, error) {
	p, err := idPath("/sources", id)
	if err != nil {
		return nil, err
	}
	return sendOne[Source](ctx, c, http.MethodPatch, p, req)
}

// ReplaceSource overwrites a source's name and whole configuration (PUT).
func (c *Client) ReplaceSource(ctx context.Context, id, name string, configuration any) (*Source, error) {
	p, err := idPath("/sources", id)
	if err != nil {
		return nil, err
	}
	return sendOne[Source](ctx, c, http.MethodPut, p, putRequest{Name: name, Configuration: configuration})
}

// DeleteSource deletes a source.
func (c *Client) DeleteSource(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "/sources", id)
}

// Destinations iterates over destinations.
func (c *Client) Destinations(ctx context.Context, opts *ListOptions) iter.Seq2[Destination, error] {
	return paginate[Destination](ctx, c, "/destinations", opts.query(), opts.pageSize())
}

// GetDestination returns a destination.
func (c *Client) GetDestination(ctx context.Context, id string) (*Destination, error) {
	return getOne[Destination](ctx, c, "/destinations", id)
}

// CreateDestination creates a destination. It is not retried when its
// outcome is unknown (see ErrOutcomeUnknown).
func (c *Client) CreateDestination(ctx context.Context, req DestinationCreate) (*Destination, error) {
	return sendOne[Destination](ctx, c, http.MethodPost, "/destinations", req)
}

// UpdateDestination changes the fields of a destination that are set in req
// (PATCH).
func (c *Client) UpdateDestination(ctx context.Context, id string, req DestinationUpdate) (*Destination, error) {
	p, err := idPath("/destinations", id)
	if err != nil {
		return nil, err
	}
	return sendOne[Destination](ctx, c, http.MethodPatch, p, req)
}

// ReplaceDestination overwrites a destination's name and whole
// configuration (PUT).
func (c *Client) ReplaceDestination(ctx context.Context, id, name string, configuration any) (*Destination, error) {
	p, err := idPath("/destinations", id)
	if err != nil {
		return nil, err
	}
	return sendOne[Destination](ctx, c, http.MethodPut, p, putRequest{Name: name, Configuration: configuration})
}

// DeleteDestination deletes a destination.
func (c *Client) DeleteDestination(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "/destinations", id)
}

// Workspaces iterates over workspaces.
func (c *Client) Workspaces(ctx context.Context, opts *ListOptions) iter.Seq2[Workspace, error] {
	return paginate[Workspace](ctx, c, "/workspaces", opts.query(), opts.pageSize())
}

// GetWorkspace returns a workspace.
func (c *Client) GetWorkspace(ctx context.Context, id string) (*Workspace, error) {
	return getOne[Workspace](ctx, c, "/workspaces", id)
}

// CreateWorkspace creates a workspace. It is not retried when its outcome
// is unknown (see ErrOutcomeUnknown).
func (c *Client) CreateWorkspace(ctx context.Context, req WorkspaceCreate) (*Workspace, error) {
	return sendOne[Workspace](ctx, c, http.MethodPost, "/workspaces", req)
}

// UpdateWorkspace changes the fields of a workspace that are set in req.
func (c *Client) UpdateWorkspace(ctx context.Context, id string, req WorkspaceUpdate) (*Workspace, error) {
	p, err := idPath("/workspaces", id)
	if err != nil {
		return nil, err
	}
	return sendOne[Workspace](ctx, c, http.MethodPatch, p, req)
}

// DeleteWorkspace deletes a workspace.
func (c *Client) DeleteWorkspace(ctx context.Context, id string) error {
	return deleteOne(ctx, c, "/workspaces", id)
}

// StreamProperties returns the streams that a source offers, as the server
// discovered them (ignoreCache asks it to discover again). destinationID
// may be empty.
func (c *Client) StreamProperties(ctx context.Context, sourceID, destinationID string, ignoreCache bool) ([]StreamProperties, error) {
	if sourceID == "" {
		return nil, errors.New("airbyte: stream properties: empty source id")
	}
	q := url.Values{"sourceId": {sourceID}}
	if destinationID != "" {
		q.Set("destinationId", destinationID)
	}
	if ignoreCache {
		q.Set("ignoreCache", "true")
	}
	var out []StreamProperties
	if err := c.get(ctx, "/streams", q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

type putRequest struct {
	Name          string `json:"name"`
	Configuration any    `json:"configuration"`
}

func getOne[T any](ctx context.Context, c *Client, prefix, id string) (*T, error) {
	p, err := idPath(prefix, id)
	if err != nil {
		return nil, fmt.Errorf("%w (GET %s)", err, prefix)
	}
	var v T
	if err := c.get(ctx, p, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func sendOne[T any](ctx context.Context, c *Client, method, path string, body any) (*T, error) {
	var v T
	if err := c.send(ctx, method, path, body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func deleteOne(ctx context.Context, c *Client, prefix, id string) error {
	p, err := idPath(prefix, id)
	if err != nil {
		return fmt.Errorf("%w (DELETE %s)", err, prefix)
	}
	return c.del(ctx, p)
}
