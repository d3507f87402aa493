// Command dataops is the terminal face of the dataops SDK: the same
// extract, stage, transform and protect steps that Go services embed.
//
//	dataops source spec|check|discover|read   run an Airbyte source, print protocol JSONL
//	dataops sync --source … --target URL      extract and stage streams exactly once
//	dataops airbyte sync|jobs                  drive an Airbyte server
//	dataops build|run|test|seed|snapshot|…     dbt's verbs on an unmodified dbt project
//	dataops backup init|create|verify|restore|…  the backup repository
//	dataops debug --url URL                    connect to a warehouse and report what it is
//	dataops version                            the version of dataops, Go and the drivers
//
// Warehouse URLs: duckdb:FILE (or duckdb: in memory), postgres://… .
// Passwords in URLs are never printed.
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
