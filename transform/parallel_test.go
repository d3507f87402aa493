package transform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

func TestReplaceNonWord(t *testing.T) {
	re := regexp.MustCompile(`[^0-9A-Za-z_]+`)
	for _, s := range []string{"", "abc_09", "not_null_m1_id", "a b", "  a--b  ", "accepted_values_x__['a', 'b']", "é_ü", "a\xffb", "__", "x.y.z", "ref('m')"} {
		if got, want := replaceNonWord(s), re.ReplaceAllString(s, "_"); got != want {
			t.Errorf("replaceNonWord(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestForEach(t *testing.T) {
	ctx := context.Background()
	var sum atomic.Int64
	if err := forEach(ctx, 1000, func(_ context.Context, i int) error {
		sum.Add(int64(i))
		return nil
	}); err != nil || sum.Load() != 999*1000/2 {
		t.Fatalf("sum %d, err %v", sum.Load(), err)
	}
	if err := forEach(ctx, 0, func(context.Context, int) error { return errors.New("never") }); err != nil {
		t.Fatal(err)
	}
	// The lowest failing index is reported; no item starts after a failure
	// is seen, and fn's context is cancelled.
	var ran atomic.Int64
	err := forEach(ctx, 10000, func(ctx context.Context, i int) error {
		ran.Add(1)
		if i == 3 || i == 5 {
			return fmt.Errorf("item %d", i)
		}
		return nil
	})
	if err == nil || err.Error() != "item 3" {
		t.Fatalf("err %v", err)
	}
	if ran.Load() >= 10000 {
		t.Errorf("%d items ran after a failure", ran.Load())
	}
}

func TestReadSmallFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4095, 4096, 4097, 100000} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte('a' + i%26)
		}
		name := filepath.Join(dir, fmt.Sprint(size))
		if err := os.WriteFile(name, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readSmallFile(name)
		if err != nil || string(got) != string(want) {
			t.Errorf("size %d: got %d bytes, err %v", size, len(got), err)
		}
	}
	if _, err := readSmallFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := readSmallFile(dir); err == nil {
		t.Error("reading a directory: no error")
	}
}
