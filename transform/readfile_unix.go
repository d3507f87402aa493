//go:build unix

package transform

import (
	"io/fs"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// readSmallFile reads a whole file with open, fstat, read until a short
// read, close: one system call fewer per file than os.ReadFile (which stats a
// new file twice), which counts for a project's thousands of small model
// files.
func readSmallFile(name string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	// A short read that brings the file to its size is its end; a file
	// that reports no size (procfs) is read until a read returns nothing.
	full := -1
	if st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Size > 0 {
		full = int(st.Size)
	}
	b := make([]byte, 0, max(st.Size, 0)+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := syscall.Read(fd, b[len(b):cap(b)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			if err == syscall.EISDIR {
				return os.ReadFile(name) // for os.ReadFile's own error
			}
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n <= 0 {
			return b, nil
		}
		short := n < cap(b)-len(b)
		b = b[:len(b)+n]
		if short && full == len(b) { // the end of a regular file (see preadFull)
			return b, nil
		}
	}
}

// overwriteFile writes s to path, creating it if needed. A file that
// already holds s is left alone (a recompile of an unchanged project
// dirties no page and keeps the files' times); another is overwritten in
// place and then cut to length, not truncated to zero first: on ext4 a
// truncate to zero makes close flush the file (auto_da_alloc), which made
// rewriting 30,000 compiled files four times slower. Like os.WriteFile, a
// crash midway may leave a mixed file.
//
// It works on the descriptor with plain system calls (open, read, write
// if it differs, close): os.OpenFile would also try to register the file with
// the poller (an epoll_ctl that fails for a regular file and four fcntl
// around it), half the system calls of a compile's 30,000 files.
func overwriteFile(path, s string) error {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o644)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	op, err := overwriteFD(fd, s)
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		op, err = "close", cerr
	}
	if err != nil {
		return &fs.PathError{Op: op, Path: path, Err: err}
	}
	return nil
}

// readBufs recycles the buffers overwriteFD compares files with.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// overwriteFD is overwriteFile on an open descriptor; it returns the
// failed operation with its error. It reads one byte more than s from the
// file instead of asking its size (one system call fewer per file): a
// short read gives the size, a full one means the file is longer than s.
func overwriteFD(fd int, s string) (string, error) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	if cap(*bp) < len(s)+1 {
		*bp = make([]byte, len(s)+1)
	}
	buf := (*bp)[:len(s)+1]
	n, err := preadFull(fd, buf)
	if err != nil {
		return "read", err
	}
	if n == len(s) && string(buf[:n]) == s {
		return "", nil // already holds s
	}
	for off := 0; off < len(s); {
		w, err := syscall.Pwrite(fd, unsafe.Slice(unsafe.StringData(s[off:]), len(s)-off), int64(off)) // not written to
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "write", err
		}
		off += w
	}
	if n > len(s) { // the file was longer: cut it
		if err := ignoringEINTR(func() error { return syscall.Ftruncate(fd, int64(len(s))) }); err != nil {
			return "truncate", err
		}
	}
	return "", nil
}

// preadFull reads len(buf) bytes from the start of fd, or up to its end:
// a regular file's read is short only at its end (Linux stops a file read
// early for a fatal signal alone), so a short read ends it without a
// second read to see the end.
func preadFull(fd int, buf []byte) (int, error) {
	for {
		n, err := syscall.Pread(fd, buf, 0)
		if err == syscall.EINTR {
			continue
		}
		return max(n, 0), err
	}
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
