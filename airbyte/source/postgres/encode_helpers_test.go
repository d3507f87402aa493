package postgres

import (
	"strconv"
	"time"
)

type timeT = time.Time

var timeParse = time.Parse

func itoa(i int) string { return strconv.Itoa(i) }
