package api_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dataopskit/dataops/airbyte/api"
	"github.com/dataopskit/dataops/airbyte/api/airbytetest"
)

// Sync a connection, wait for it, then transform what it loaded. The
// server here is the in-process stand-in from airbytetest; against a real
// one, pass its URL (for example http://localhost:8000) and credentials.
func Example_syncThenTransform() {
	srv := airbytetest.NewServer(nil)
	defer srv.Close()
	conn := srv.AddConnection("orders")

	ctx := context.Background()
	c, err := api.New(srv.URL, api.WithClientCredentials(srv.ClientID(), srv.ClientSecret()))
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.SyncAndWait(ctx, conn.ID, &api.SyncOptions{
		AttachIfRunning:     true, // a scheduled sync already running is fine
		CancelOnContextDone: true,
		PollInterval:        1, // poll at once; against a real server keep the default
		OnProgress: func(j api.Job) {
			fmt.Printf("job %d: %s\n", j.ID, j.Status)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// The transform: here a placeholder for running the dbt project.
	transform := func(ctx context.Context, rows int64) error {
		fmt.Printf("transforming after %d rows\n", rows)
		return nil
	}
	if err := transform(ctx, job.RowsSynced); err != nil {
		log.Fatal(err)
	}
	// Output:
	// job 1: pending
	// job 1: running
	// job 1: succeeded
	// transforming after 200 rows
}

// List the latest jobs of a connection, newest first.
func ExampleClient_Jobs() {
	srv := airbytetest.NewServer(&airbytetest.Options{JobStatuses: []api.JobStatus{api.JobSucceeded}})
	defer srv.Close()
	conn := srv.AddConnection("orders")
	srv.StartJob(conn.ID, api.JobSync)
	srv.StartJob(conn.ID, api.JobClear)

	c, err := api.New(srv.URL, api.WithClientCredentials(srv.ClientID(), srv.ClientSecret()))
	if err != nil {
		log.Fatal(err)
	}
	for job, err := range c.Jobs(context.Background(), api.JobFilter{ConnectionID: conn.ID, OrderBy: "createdAt|DESC"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.ID, job.Type, job.Status)
	}
	// Output:
	// 2 clear succeeded
	// 1 sync succeeded
}

// The base URL decides every endpoint, the token endpoint included.
func ExampleNew() {
	for _, u := range []string{"", "http://localhost:8000", "https://airbyte.example.com/api/public/v1/"} {
		c, err := api.New(u, api.WithClientCredentials("my-client-id", "my-client-secret"))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(c.BaseURL() + "/applications/token")
	}
	// Output:
	// https://api.airbyte.com/v1/applications/token
	// http://localhost:8000/api/public/v1/applications/token
	// https://airbyte.example.com/api/public/v1/applications/token
}
