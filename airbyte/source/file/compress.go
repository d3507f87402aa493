package file

import (
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// decompressed returns a reader of the file's content, decompressed when
// its name ends in .gz (gzip) or .zst (zstandard), and a function that
// releases the decoder. Parquet files compress inside and are never
// wrapped.
func decompressed(r io.Reader, url string) (io.Reader, func(), error) {
	switch {
	case strings.HasSuffix(url, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, &ParseError{File: url, Err: fmt.Errorf("not gzip: %w", err)}
		}
		return zr, func() { _ = zr.Close() }, nil
	case strings.HasSuffix(url, ".zst"):
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, &ParseError{File: url, Err: fmt.Errorf("not zstd: %w", err)}
		}
		return zr.IOReadCloser(), zr.Close, nil
	}
	return r, func() {}, nil
}
