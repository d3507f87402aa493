// Command dataops is the terminal face of the dataops SDK: the same
// extract, stage, transform and protect steps that Go services embed.
//
// Today it has two verbs:
//
//	dataops version            print the version of dataops, Go and DuckDB
//	dataops debug --url URL    connect to a warehouse and report what it is, like dbt debug
//
// The warehouse URL comes from --url, else $DATAOPS_WAREHOUSE_URL, else an
// in-memory DuckDB. Passwords in URLs are never printed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dataops:", err)
		os.Exit(1)
	}
}
