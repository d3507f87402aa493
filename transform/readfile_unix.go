//go:build unix

package transform

import (
	"io/fs"
	"os"
	"syscall"
)

// readSmallFile reads a whole file with open, fstat, read until end,
// close: one system call fewer per file than os.ReadFile (which stats a
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
		b = b[:len(b)+n]
	}
}
