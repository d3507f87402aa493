module github.com/dataopskit/dataops

go 1.26.0

require github.com/jmoiron/sqlx v1.4.0
