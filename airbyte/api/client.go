package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// CloudURL is the base URL of the public API of Airbyte Cloud.
const CloudURL = "https://api.airbyte.com/v1"

// SelfHostedPath is the path of the public API v1 on a self-hosted Airbyte
// server (for example http://localhost:8000/api/public/v1).
const SelfHostedPath = "/api/public/v1"

// defaultMaxElapsed is the default time budget of one request's retries.
const defaultMaxElapsed = 2 * time.Minute

// maxBody bounds how much of a response body is read.
const maxBody = 64 << 20

// Client talks to the public API v1 of one Airbyte server. It is safe for
// concurrent use.
type Client struct {
	base    *url.URL // without userinfo, path without trailing slash
	http    *http.Client
	log     *slog.Logger
	auth    authenticator
	retry   RetryPolicy
	timeout time.Duration
	agent   string

	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// RetryPolicy bounds the retries of one request. Zero fields take the
// defaults: 500 ms initial interval, 30 s maximum interval, 2 min in all,
// 8 attempts. The context bounds it too.
type RetryPolicy struct {
	InitialInterval time.Duration
	MaxInterval     time.Duration
	MaxElapsedTime  time.Duration
	MaxAttempts     int
}

// WithClientCredentials authenticates with an application's client id and
// secret: the client fetches an access token from <base>/applications/token
// and refreshes it before it expires.
func WithClientCredentials(clientID, clientSecret string) Option {
	return func(c *Client) {
		c.auth = &tokenSource{clientID: clientID, secret: clientSecret, lock: make(chan struct{}, 1)}
	}
}

// WithBearerToken authenticates with a fixed access token.
func WithBearerToken(token string) Option {
	return func(c *Client) { c.auth = &staticAuth{kind: "bearer", value: "Bearer " + token} }
}

// WithBasicAuth authenticates with a user name and password, as self-hosted
// servers (abctl) accept.
func WithBasicAuth(username, password string) Option {
	return func(c *Client) {
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(username, password)
		c.auth = &staticAuth{kind: "basic user=" + username, value: req.Header.Get("Authorization")}
	}
}

// WithHTTPClient sets the HTTP client (default: a client with a 30 s dial
// and TLS handshake timeout and no overall timeout).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithLogger sets the logger for requests, retries and token refreshes
// (default: discard). Credentials are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithRetry sets how requests are retried on 429, 502, 503, 504 and broken
// connections.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) { c.retry = p }
}

// WithRequestTimeout bounds each attempt of a request (default: none, only
// the context). A GET that times out is retried; a POST that times out has
// an unknown outcome and is not.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.agent = ua }
}

// New returns a client for the server at baseURL. An empty baseURL means
// Airbyte Cloud (CloudURL). A URL without a path is completed: Cloud's host
// gets /v1, any other host gets SelfHostedPath, so "http://localhost:8000"
// means http://localhost:8000/api/public/v1. Every endpoint, the token
// endpoint included, is the base URL followed by its path. User
// information in the URL (http://user:pass@host) becomes basic auth unless
// another option sets the authentication.
func New(baseURL string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = CloudURL
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("airbyte: base URL: %w", redactURLError(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("airbyte: base URL %q: want http(s)://host[/path]", redactURL(u))
	}
	c := &Client{
		http:  &http.Client{Transport: defaultTransport()},
		log:   slog.New(slog.DiscardHandler),
		agent: "dataops-airbyte-api",
		now:   time.Now,
		sleep: sleepCtx,
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		WithBasicAuth(u.User.Username(), pw)(c)
		u.User = nil
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if u.Path == "" {
		if strings.EqualFold(u.Hostname(), "api.airbyte.com") {
			u.Path = "/v1"
		} else {
			u.Path = SelfHostedPath
		}
	}
	u.RawQuery, u.Fragment = "", ""
	c.base = u
	for _, o := range opts {
		o(c)
	}
	if c.auth == nil {
		c.auth = &staticAuth{kind: "none"}
	}
	return c, nil
}

// BaseURL returns the base URL that endpoint paths are appended to.
func (c *Client) BaseURL() string { return c.base.String() }

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("airbyte.Client(%s, auth=%s)", c.base, c.auth.describe())
}

// GoString is String, so that %#v does not print the credentials either.
func (c *Client) GoString() string { return c.String() }

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSHandshakeTimeout = 30 * time.Second
	return t
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endpoint builds the URL of path (which starts with "/") under the base.
// It appends rather than resolves, so a base path such as /api/public/v1 is
// never lost.
func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.base
	u.Path = c.base.Path + path
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// request describes one API call.
type request struct {
	method string
	path   string // relative to the base, starting with "/"
	query  url.Values
	body   any
	// safe marks a request that may be repeated when its outcome is
	// unknown (GET, PUT, PATCH, DELETE and the token request).
	safe bool
	// noAuth sends the request without credentials.
	noAuth bool
}

func (c *Client) newBackOff(ctx context.Context) backoff.BackOffContext {
	p := c.retry
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = orDuration(p.InitialInterval, 500*time.Millisecond)
	b.MaxInterval = orDuration(p.MaxInterval, 30*time.Second)
	b.MaxElapsedTime = orDuration(p.MaxElapsedTime, defaultMaxElapsed)
	attempts := p.MaxAttempts
	if attempts <= 0 {
		attempts = 8
	}
	b.Reset()
	return backoff.WithContext(backoff.WithMaxRetries(b, uint64(attempts-1)), ctx)
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// do sends the request, retrying what is safe to retry, and decodes a
// successful JSON response into out (unless out is nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("airbyte: %s %s: encoding request: %w", r.method, r.path, err)
		}
	}
	b := c.newBackOff(ctx)
	start := c.now()
	budget := orDuration(c.retry.MaxElapsedTime, defaultMaxElapsed)
	refreshed := false
	for attempt := 1; ; attempt++ {
		status, respBody, hdr, err := c.attempt(ctx, r, body)
		var retryAfter time.Duration
		var lastErr error
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("airbyte: %s %s: %w", r.method, r.path, errors.Join(ctx.Err(), err))
			}
			switch classify(err) {
			case notSent:
				lastErr = err
			case maybeSent:
				if !r.safe {
					return fmt.Errorf("airbyte: %s %s: %w: %w", r.method, r.path, ErrOutcomeUnknown, err)
				}
				lastErr = err
			default:
				var ae errAuth
				if errors.As(err, &ae) {
					return ae.err // names the token request already
				}
				return fmt.Errorf("airbyte: %s %s: %w", r.method, r.path, err)
			}
		case status >= 200 && status < 300:
			if out == nil || len(bytes.TrimSpace(respBody)) == 0 {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				return fmt.Errorf("airbyte: %s %s: decoding response: %w", r.method, r.path, err)
			}
			return nil
		default:
			apiErr := &APIError{Method: r.method, Path: r.path, StatusCode: status, Problem: parseProblem(respBody)}
			apiErr.RetryAfter = parseRetryAfter(hdr.Get("Retry-After"), c.now())
			switch status {
			case http.StatusUnauthorized:
				// A token can be revoked or expire early (clock skew): fetch a
				// new one once and try again.
				if !r.noAuth && !refreshed && c.auth.invalidate() {
					refreshed = true
					c.log.DebugContext(ctx, "airbyte: 401, refreshing the access token", "method", r.method, "path", r.path)
					attempt--
					continue
				}
				return apiErr
			case http.StatusTooManyRequests:
				retryAfter = apiErr.RetryAfter
				lastErr = apiErr
			case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				if !r.safe {
					return fmt.Errorf("%w: %w", ErrOutcomeUnknown, apiErr)
				}
				retryAfter = apiErr.RetryAfter
				lastErr = apiErr
			default:
				return apiErr
			}
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			if ctx.Err() != nil {
				return fmt.Errorf("airbyte: %s %s: %w", r.method, r.path, errors.Join(ctx.Err(), lastErr))
			}
			return fmt.Errorf("airbyte: %s %s: giving up after %d attempts: %w", r.method, r.path, attempt, lastErr)
		}
		if retryAfter > wait {
			// Waiting longer than the retry budget or the context allows
			// would only end in failure: fail now, and let the caller see
			// the wait the server asked for in the APIError.
			if c.now().Sub(start)+retryAfter > budget {
				return fmt.Errorf("airbyte: %s %s: the server asks to wait %v, beyond the retry budget of %v: %w", r.method, r.path, retryAfter, budget, lastErr)
			}
			if dl, ok := ctx.Deadline(); ok && retryAfter > time.Until(dl) {
				return fmt.Errorf("airbyte: %s %s: the server asks to wait %v, beyond the context's deadline: %w", r.method, r.path, retryAfter, lastErr)
			}
			wait = retryAfter
		}
		c.log.DebugContext(ctx, "airbyte: retrying", "method", r.method, "path", r.path, "attempt", attempt, "wait", wait, "error", lastErr)
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("airbyte: %s %s: %w", r.method, r.path, errors.Join(err, lastErr))
		}
	}
}

// attempt sends the request once and reads the whole response.
func (c *Client) attempt(ctx context.Context, r request, body []byte) (int, []byte, http.Header, error) {
	// Credentials first, outside the attempt's timeout: fetching a token is
	// a request of its own, with its own attempts and timeouts.
	var auth string
	if !r.noAuth {
		h, err := c.auth.header(ctx, c)
		if err != nil {
			return 0, nil, nil, errAuth{err}
		}
		auth = h
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.endpoint(r.path, r.query), rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, err
	}
	c.log.DebugContext(ctx, "airbyte: request", "method", r.method, "path", r.path, "status", resp.StatusCode)
	return resp.StatusCode, data, resp.Header, nil
}

// errAuth carries a failure to obtain credentials, which is never retried
// here (the token request has its own retries).
type errAuth struct{ err error }

func (e errAuth) Error() string { return e.err.Error() }
func (e errAuth) Unwrap() error { return e.err }

type failureKind int

const (
	permanent failureKind = iota
	notSent               // the request never reached the server
	maybeSent             // the server may have received and processed it
)

// classify sorts a transport error by whether the request may have reached
// the server.
func classify(err error) failureKind {
	var ae errAuth
	if errors.As(err, &ae) {
		return permanent
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return notSent
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) {
		return maybeSent
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return maybeSent
	}
	return permanent
}

// maxRetryAfter caps the wait a server can ask for; the context and the
// retry policy bound it further.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		return min(time.Duration(min(s, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

func redactURL(u *url.URL) string { return u.Redacted() }

// redactURLError removes the URL, which may hold a password, from a parse
// error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
