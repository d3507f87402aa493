package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/airbyte/api"
)

// Environment variables that hold the Airbyte server and its credentials.
// Flags win over them.
const (
	envAirbyteURL          = "AIRBYTE_URL"
	envAirbyteClientID     = "AIRBYTE_CLIENT_ID"
	envAirbyteClientSecret = "AIRBYTE_CLIENT_SECRET"
	envAirbyteToken        = "AIRBYTE_TOKEN"
	envAirbyteUsername     = "AIRBYTE_USERNAME"
	envAirbytePassword     = "AIRBYTE_PASSWORD"
)

// airbyteFlags are the server and credential flags shared by the airbyte
// verbs.
type airbyteFlags struct {
	url, clientID, clientSecret, token, username, password string
	requestTimeout                                         time.Duration
}

func newAirbyteCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f airbyteFlags
	cmd := &cobra.Command{
		Use:   "airbyte",
		Short: "Drive an Airbyte server: trigger syncs, wait for them, list jobs",
		Long: `airbyte talks to the public API of an Airbyte server, Cloud or self-hosted.

The server is --url, else $` + envAirbyteURL + `, else Airbyte Cloud. A URL without a path
means the public API of that host (http://localhost:8000 → http://localhost:8000/api/public/v1).
Credentials, flags first, then the environment (prefer the environment: flags show in ps):
  --client-id/--client-secret   $` + envAirbyteClientID + ` / $` + envAirbyteClientSecret + `  (application credentials)
  --token                       $` + envAirbyteToken + `  (a bearer token)
  --username/--password         $` + envAirbyteUsername + ` / $` + envAirbytePassword + `  (basic auth, self-hosted)
Credentials are never printed.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.url, "url", "", "Airbyte API URL (default $"+envAirbyteURL+", else Airbyte Cloud)")
	pf.StringVar(&f.clientID, "client-id", "", "application client id (default $"+envAirbyteClientID+")")
	pf.StringVar(&f.clientSecret, "client-secret", "", "application client secret (default $"+envAirbyteClientSecret+")")
	pf.StringVar(&f.token, "token", "", "bearer token (default $"+envAirbyteToken+")")
	pf.StringVar(&f.username, "username", "", "basic auth user (default $"+envAirbyteUsername+")")
	pf.StringVar(&f.password, "password", "", "basic auth password (default $"+envAirbytePassword+")")
	pf.DurationVar(&f.requestTimeout, "request-timeout", time.Minute, "give up on one HTTP request after this long")
	cmd.AddCommand(newAirbyteSyncCmd(&f, logger), newAirbyteJobsCmd(&f, logger))
	return cmd
}

// client builds an API client from the flags and the environment.
func (f *airbyteFlags) client(cmd *cobra.Command, log *slog.Logger) (*api.Client, error) {
	pick := func(flag, env string) string {
		if flag != "" {
			return flag
		}
		return os.Getenv(env)
	}
	id, secret := pick(f.clientID, envAirbyteClientID), pick(f.clientSecret, envAirbyteClientSecret)
	token := pick(f.token, envAirbyteToken)
	user, pass := pick(f.username, envAirbyteUsername), pick(f.password, envAirbytePassword)
	opts := []api.Option{api.WithLogger(log), api.WithRequestTimeout(f.requestTimeout)}
	var kinds []string
	if id != "" || secret != "" {
		if id == "" || secret == "" {
			return nil, errors.New("airbyte: client credentials need both a client id and a client secret")
		}
		kinds = append(kinds, "client credentials")
		opts = append(opts, api.WithClientCredentials(id, secret))
	}
	if token != "" {
		kinds = append(kinds, "token")
		opts = append(opts, api.WithBearerToken(token))
	}
	if user != "" {
		kinds = append(kinds, "username/password")
		opts = append(opts, api.WithBasicAuth(user, pass))
	}
	if len(kinds) > 1 {
		return nil, fmt.Errorf("airbyte: more than one kind of credentials given (%s): keep one", strings.Join(kinds, ", "))
	}
	return api.New(pick(f.url, envAirbyteURL), opts...)
}

func newAirbyteSyncCmd(f *airbyteFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var (
		connection                    string
		jobType                       string
		wait, attach, cancelInterrupt bool
		poll, maxPoll, timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "sync --connection ID [--wait]",
		Short: "Start a sync (or reset, refresh, clear) of a connection, and wait for it with --wait",
		Long: `sync starts a job of a connection and prints its id. With --wait it follows the job until
it succeeds, fails or is cancelled, printing each change of status, and exits non-zero unless it
succeeded. "incomplete" means an attempt failed and Airbyte retries it: the wait goes on.
With --attach, a job of the same type that is already running is followed instead of failing.
An interrupt (Ctrl-C) during --wait cancels the job unless --cancel-on-interrupt=false.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if connection == "" {
				return errors.New("airbyte sync: --connection is required")
			}
			log := logger(cmd)
			c, err := f.client(cmd, log)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			out := cmd.OutOrStdout()
			typ := api.JobType(jobType)
			if !wait {
				job, err := c.CreateJob(ctx, connection, typ)
				if err != nil && attach && errors.Is(err, api.ErrConflict) {
					job, err = c.ActiveJob(ctx, connection, typ)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "job %d: %s %s of connection %s\n", job.ID, job.Type, job.Status, job.ConnectionID)
				return nil
			}
			var last api.JobStatus
			job, err := c.SyncAndWait(ctx, connection, &api.SyncOptions{
				JobType:             typ,
				AttachIfRunning:     attach,
				CancelOnContextDone: cancelInterrupt,
				PollInterval:        poll,
				MaxPollInterval:     maxPoll,
				OnProgress: func(j api.Job) {
					if j.Status != last {
						last = j.Status
						fmt.Fprintf(out, "job %d: %s %s (%d rows, %d bytes)\n", j.ID, j.Type, j.Status, j.RowsSynced, j.BytesSynced)
					}
				},
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "job %d succeeded: %d rows, %d bytes", job.ID, job.RowsSynced, job.BytesSynced)
			if job.Duration != "" {
				fmt.Fprintf(out, " in %s", job.Duration)
			}
			fmt.Fprintln(out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&connection, "connection", "", "connection id (required)")
	fl.StringVar(&jobType, "type", string(api.JobSync), "job type: sync, reset, refresh or clear")
	fl.BoolVar(&wait, "wait", false, "wait until the job ends")
	fl.BoolVar(&attach, "attach", false, "follow the job already running instead of failing with 409")
	fl.BoolVar(&cancelInterrupt, "cancel-on-interrupt", true, "cancel the job when interrupted during --wait")
	fl.DurationVar(&poll, "poll-interval", 2*time.Second, "first wait between polls (it grows)")
	fl.DurationVar(&maxPoll, "max-poll-interval", 30*time.Second, "longest wait between polls")
	fl.DurationVar(&timeout, "timeout", 0, "give up (and cancel the job, see --cancel-on-interrupt) after this long; 0 waits forever")
	return cmd
}

func newAirbyteJobsCmd(f *airbyteFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	jobs := &cobra.Command{Use: "jobs", Short: "Inspect Airbyte jobs"}
	var (
		connection, status, jobType string
		limit                       int
		asJSON                      bool
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return errors.New("airbyte jobs list: --limit must be at least 1")
			}
			c, err := f.client(cmd, logger(cmd))
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			filter := api.JobFilter{
				ConnectionID: connection, Status: api.JobStatus(status), Type: api.JobType(jobType),
				OrderBy: "createdAt|DESC", PageSize: min(limit, 100),
			}
			var got []api.Job
			for j, err := range c.Jobs(ctx, filter) {
				if err != nil {
					return err
				}
				if got = append(got, j); len(got) == limit {
					break
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if got == nil {
					got = []api.Job{}
				}
				return enc.Encode(got)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "JOB\tTYPE\tSTATUS\tCONNECTION\tSTARTED\tDURATION\tROWS\tBYTES")
			for _, j := range got {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", j.ID, j.Type, j.Status, j.ConnectionID, j.StartTime, j.Duration, j.RowsSynced, j.BytesSynced)
			}
			return tw.Flush()
		},
	}
	fl := list.Flags()
	fl.StringVar(&connection, "connection", "", "only jobs of this connection")
	fl.StringVar(&status, "status", "", "only jobs in this status (pending, running, incomplete, failed, succeeded, cancelled)")
	fl.StringVar(&jobType, "type", "", "only jobs of this type (sync, reset, refresh, clear)")
	fl.IntVar(&limit, "limit", 20, "list at most this many jobs")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	jobs.AddCommand(list)
	return jobs
}
