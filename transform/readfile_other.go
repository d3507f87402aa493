//go:build !unix

package transform

import (
	"io"
	"os"
	"sync"
)

// readSmallFile reads a whole file.
func readSmallFile(name string) ([]byte, error) { return os.ReadFile(name) }

// overwriteFile writes s to path, creating it if needed. A file that
// already holds s is left alone (a recompile of an unchanged project
// dirties no page and keeps the files' times); another is overwritten in
// place and then cut to length, not truncated to zero first: on ext4 a
// truncate to zero makes close flush the file (auto_da_alloc), which made
// rewriting 30,000 compiled files four times slower. Like os.WriteFile, a
// crash midway may leave a mixed file.
func overwriteFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = overwrite(f, s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readBufs recycles the buffers overwrite compares files with.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func overwrite(f *os.File, s string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == int64(len(s)) && len(s) > 0 {
		bp := readBufs.Get().(*[]byte)
		defer readBufs.Put(bp)
		if cap(*bp) < len(s) {
			*bp = make([]byte, len(s))
		}
		buf := (*bp)[:len(s)]
		if n, err := io.ReadFull(f, buf); err == nil && n == len(s) && string(buf) == s {
			return nil
		}
		copy(buf, s)
		_, err = f.WriteAt(buf, 0) // the read moved the offset
	} else {
		_, err = f.WriteString(s)
	}
	if err != nil {
		return err
	}
	if st.Size() > int64(len(s)) {
		return f.Truncate(int64(len(s)))
	}
	return nil
}
