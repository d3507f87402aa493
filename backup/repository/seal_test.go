package repository

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func testKeys() *keys {
	k := &keys{Enc: make([]byte, 32), ID: make([]byte, 32), MAC: make([]byte, 32)}
	rand.Read(k.Enc)
	return k
}

// frames splits a sealed encrypted object into header+nonce and frames.
func frames(t *testing.T, sealed []byte) (head []byte, fs [][]byte) {
	head = sealed[:headerSize+nonceSize]
	rest := sealed[len(head):]
	for len(rest) > 0 {
		n := int(binary.BigEndian.Uint32(rest) &^ frameFinalBit)
		fs = append(fs, rest[:4+n])
		rest = rest[4+n:]
	}
	return head, fs
}

func TestSealFramesRoundTripAndTamper(t *testing.T) {
	k := testKeys()
	plain := make([]byte, 3*frameSize+frameSize/2) // incompressible: several frames
	rand.Read(plain)
	var buf bytes.Buffer
	w, err := newSealWriter(&buf, k, kindData, "data/ab/x", zstd.SpeedFastest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(plain)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sealed := buf.Bytes()
	open := func(b []byte, kind byte, name string) ([]byte, error) {
		r, err := openSealed(bytes.NewReader(b), k, kind, name)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	}
	got, err := open(sealed, kindData, "data/ab/x")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %v (%d bytes)", err, len(got))
	}
	head, fs := frames(t, sealed)
	if len(fs) < 4 {
		t.Fatalf("%d frames, want at least 4", len(fs))
	}
	join := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{head}, parts...), nil) }
	for name, bad := range map[string][]byte{
		"final frame dropped": join(fs[:len(fs)-1]...),
		"frames swapped":      join(append([][]byte{fs[1], fs[0]}, fs[2:]...)...),
		"frame repeated":      join(append([][]byte{fs[0]}, fs...)...),
		"data after final":    append(join(fs...), 0),
		"only the header":     sealed[:headerSize],
	} {
		if _, err := open(bad, kindData, "data/ab/x"); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := open(sealed, kindData, "data/ab/y"); err == nil {
		t.Error("renamed object opened")
	}
	if _, err := open(sealed, kindIndex, "data/ab/x"); err == nil {
		t.Error("wrong kind opened")
	}
	if _, err := openSealed(bytes.NewReader(sealed), nil, kindData, "data/ab/x"); err == nil {
		t.Error("encrypted object opened as plain")
	}
	// Small objects: one frame, and the plain variant.
	for _, kk := range []*keys{nil, k} {
		s, err := sealBytes(kk, kindLock, "locks/", []byte(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		p, err := unsealBytes(kk, kindLock, "locks/", s)
		if err != nil || string(p) != `{"a":1}` {
			t.Fatalf("small object: %q %v", p, err)
		}
		s[len(s)-1] ^= 1
		if _, err := unsealBytes(kk, kindLock, "locks/", s); err == nil {
			t.Fatalf("flipped small object opened (encrypted=%v)", kk != nil)
		}
	}
}

func TestCanonicalJSON(t *testing.T) {
	b, err := canonicalize([]byte(`{ "b": [1, 2.50, {"z":null,"a":"<x>"}], "a": 12345678901234567890 }`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":12345678901234567890,"b":[1,2.50,{"a":"<x>","z":null}]}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}

// A body stored without zstd (Parquet parts) round-trips, says so in its
// header, and a flipped bit is still caught, encrypted or not.
func TestSealUncompressed(t *testing.T) {
	plain := bytes.Repeat([]byte("parquet pages are compressed already "), 100_000)
	for _, k := range []*keys{nil, testKeys()} {
		var buf bytes.Buffer
		w, err := newSealWriter(&buf, k, kindData, "data/ab/x", noCompression)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader(plain)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		sealed := buf.Bytes()
		if sealed[5]&flagZstd != 0 {
			t.Fatalf("flags %#x: zstd bit set", sealed[5])
		}
		if k == nil && !bytes.Equal(sealed[headerSize:], plain) {
			t.Fatal("unencrypted uncompressed body is not the plaintext")
		}
		got, err := unsealBytes(k, kindData, "data/ab/x", sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip (encrypted %v): %v, %d bytes", k != nil, err, len(got))
		}
		if k != nil {
			sealed[len(sealed)/2] ^= 1
			if _, err := unsealBytes(k, kindData, "data/ab/x", sealed); err == nil {
				t.Fatal("a flipped bit went unnoticed")
			}
		}
	}
}
