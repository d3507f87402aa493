package postgres

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/dataopskit/dataops/airbyte"
)

// A table (or materialized view) is loaded in physical order by one
// query,
//
//	SELECT ctid, cols FROM t [WHERE ctid > $1::tid]
//
// which PostgreSQL runs as a sequential scan (a TID range scan from 14 on
// when resuming): no sort and no index, whatever the key, at the cost of
// the baseline COPY. Every chunk rows, the state records the ctid of the
// last row emitted and the table's relfilenode. A resume reads the rows
// after that ctid; if the relfilenode changed in between (VACUUM FULL,
// CLUSTER, TRUNCATE and REFRESH MATERIALIZED VIEW rewrite the table and
// renumber its rows), it reads the table from the start. The read
// transaction turns off synchronized and parallel scans, which would not
// return rows in physical order; rows that come out of order anyway fail
// the read rather than break a checkpoint.

// tid is a row's physical address (ctid).
type tid struct {
	page uint32
	item uint16
}

func (t tid) String() string {
	return "(" + strconv.FormatUint(uint64(t.page), 10) + "," + strconv.FormatUint(uint64(t.item), 10) + ")"
}

// order is t as one number that grows with the physical order.
func (t tid) order() uint64 { return uint64(t.page)<<16 | uint64(t.item) }

// parseTID parses a ctid's text form, "(page,item)".
func parseTID(s string) (tid, error) {
	if len(s) < 5 || s[0] != '(' || s[len(s)-1] != ')' {
		return tid{}, fmt.Errorf("bad ctid %q", s)
	}
	for i := 1; i < len(s)-1; i++ {
		if s[i] != ',' {
			continue
		}
		p, err1 := strconv.ParseUint(s[1:i], 10, 32)
		o, err2 := strconv.ParseUint(s[i+1:len(s)-1], 10, 16)
		if err1 != nil || err2 != nil {
			break
		}
		return tid{page: uint32(p), item: uint16(o)}, nil
	}
	return tid{}, fmt.Errorf("bad ctid %q", s)
}

// physicalOrder checks that ctids grow.
type physicalOrder struct {
	last    tid
	started bool
}

// next takes the next ctid and reports whether it comes after the previous
// one (returned).
func (o *physicalOrder) next(t tid) (prev tid, ok bool) {
	prev, ok = o.last, !o.started || t.order() > o.last.order()
	o.last, o.started = t, true
	return prev, ok
}

// readByCtid loads a table or materialized view in physical order with one
// query, checkpointing every chunk rows with the last ctid and the
// relfilenode.
func (rs *readStream) readByCtid(sp *streamPlan, chunk int, extra []byte, emit func(*airbyte.Message) bool, done func()) error {
	var filenode int64
	if err := rs.rd.QueryRow(rs.ctx, "SELECT COALESCE(pg_catalog.pg_relation_filenode($1::oid)::bigint, 0)", sp.t.OID).Scan(&filenode); err != nil {
		return fmt.Errorf("postgres source: stream %s: relfilenode: %w", sp.desc, err)
	}
	var after *tid
	if ld := sp.state.Load; ld != nil {
		switch {
		case ld.Ctid != "":
			t, err := parseTID(ld.Ctid)
			if err != nil {
				return fmt.Errorf("postgres source: state of stream %s: %w", sp.desc, err)
			}
			if ld.Filenode != filenode {
				rs.src.log.Warn("table rewritten since the saved state (VACUUM FULL, CLUSTER, TRUNCATE…); reading it from the start",
					"stream", sp.desc.String(), "saved_filenode", ld.Filenode, "filenode", filenode)
			} else {
				after = &t
			}
		case ld.NextPage != nil && *ld.NextPage > 0 && *ld.NextPage <= 1<<32:
			// A state of the former page-range reader: rows from that page on.
			after = &tid{page: uint32(*ld.NextPage - 1), item: 0xffff}
		}
	}
	sql := "SELECT ctid, " + sp.list + " FROM " + sp.rel
	var params [][]byte
	var order physicalOrder
	if after != nil {
		sql += " WHERE ctid > $1::pg_catalog.tid"
		params = [][]byte{[]byte(after.String())}
		order.next(*after)
	}
	n := 0
	err := rs.queryFormats(sp, sql, params, nil, nil, sp.ctidFormats, func(vals [][]byte) error {
		c := vals[0]
		if len(c) != 6 {
			return fmt.Errorf("postgres source: stream %s: ctid of %d bytes", sp.desc, len(c))
		}
		t := tid{page: binary.BigEndian.Uint32(c), item: binary.BigEndian.Uint16(c[4:])}
		if prev, ok := order.next(t); !ok {
			return fmt.Errorf("postgres source: stream %s: row %s after %s: rows are not in physical order", sp.desc, t, prev)
		}
		if err := rs.emitRow(sp, vals[1:], extra, emit); err != nil {
			return err
		}
		n++
		if n%chunk != 0 {
			return nil
		}
		sp.state.Load = &loadState{Ctid: t.String(), Filenode: filenode}
		return rs.checkpoint(sp, emit)
	})
	if err != nil {
		return err
	}
	done()
	return rs.checkpoint(sp, emit)
}
