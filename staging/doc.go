// Package staging will land Airbyte streams untransformed in a warehouse's
// staging area, the way Airbyte destinations do, committing every state
// checkpoint in the same transaction as the rows it covers.
//
// It holds no API yet: its issue (staging) builds it on the warehouse
// package's transactions and bulk Load. See DESIGN.md.
package staging
