package repository

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Object kinds in the sealed header (FORMAT.md §3).
const (
	kindData      byte = 1
	kindIndex     byte = 2
	kindSnapshot  byte = 3
	kindRetention byte = 4
	kindLock      byte = 5
	kindMark      byte = 6
	kindRevive    byte = 7
)

const (
	sealMagic      = "DOPS"
	sealVersion    = 1
	flagZstd       = 1
	flagEncrypted  = 2
	headerSize     = 8
	frameSize      = 1 << 20 // plaintext bytes of the body per encrypted frame
	frameFinalBit  = 1 << 31
	nonceSize      = 12
	maxFrameCipher = frameSize + 16
)

// keys are the master keys of an encrypted repository.
type keys struct {
	Enc []byte `json:"enc"`
	ID  []byte `json:"id"`
	MAC []byte `json:"mac"`
}

func sealHeader(kind byte, compressed, encrypted bool) []byte {
	h := []byte(sealMagic + "\x01\x00\x00\x00")
	if compressed {
		h[5] = flagZstd
	}
	if encrypted {
		h[5] |= flagEncrypted
	}
	h[6] = kind
	return h
}

// sealWriter seals a stream: header, then zstd(plaintext) or the plaintext
// itself, encrypted in frames when the repository is encrypted.
type sealWriter struct {
	dst  io.Writer
	zw   *zstd.Encoder // nil when the body is not compressed
	fw   *frameWriter  // nil when unencrypted
	body io.Writer
}

// noCompression is the level of newSealWriter that stores the body
// uncompressed (flag bit 0 clear): for content already compressed, such as
// Parquet parts whose pages the Parquet writer compressed.
const noCompression zstd.EncoderLevel = 0

func newSealWriter(dst io.Writer, k *keys, kind byte, name string, level zstd.EncoderLevel) (*sealWriter, error) {
	hdr := sealHeader(kind, level != noCompression, k != nil)
	if _, err := dst.Write(hdr); err != nil {
		return nil, err
	}
	s := &sealWriter{dst: dst, body: dst}
	if k != nil {
		fw, err := newFrameWriter(dst, k.Enc, append(hdr, name...))
		if err != nil {
			return nil, err
		}
		s.fw, s.body = fw, fw
	}
	if level == noCompression {
		return s, nil
	}
	zw, err := zstd.NewWriter(s.body, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
	if err != nil {
		return nil, err
	}
	s.zw = zw
	return s, nil
}

func (s *sealWriter) Write(p []byte) (int, error) {
	if s.zw == nil {
		return s.body.Write(p)
	}
	return s.zw.Write(p)
}

// ReadFrom lets io.Copy hand the encoder (or the frame writer) large blocks.
func (s *sealWriter) ReadFrom(r io.Reader) (int64, error) {
	if s.zw == nil {
		buf := make([]byte, 1<<20)
		return io.CopyBuffer(struct{ io.Writer }{s.body}, r, buf)
	}
	return s.zw.ReadFrom(r)
}

func (s *sealWriter) Close() error {
	if s.zw != nil {
		if err := s.zw.Close(); err != nil {
			return err
		}
	}
	if s.fw != nil {
		return s.fw.Close()
	}
	return nil
}

// frameWriter encrypts a stream in frames: base nonce (12 bytes), then per
// frame a 4-byte big-endian length (bit 31: final frame) and the AES-256-GCM
// ciphertext of up to frameSize bytes, with nonce = base nonce XOR frame
// number (last 8 bytes) and aad = header || name || final flag byte. The
// plaintext is gathered in place and sealed there.
type frameWriter struct {
	dst   io.Writer
	aead  cipher.AEAD
	base  [nonceSize]byte
	aad   []byte
	buf   []byte // 4 length bytes, then up to frameSize plaintext bytes (+ tag room)
	n     uint64
	nonce [nonceSize]byte
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

func newFrameWriter(dst io.Writer, key, aad []byte) (*frameWriter, error) {
	a, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	f := &frameWriter{dst: dst, aead: a, aad: append(aad, 0), buf: make([]byte, 4, 4+frameSize+16)}
	if _, err := rand.Read(f.base[:]); err != nil {
		return nil, err
	}
	if _, err := dst.Write(f.base[:]); err != nil {
		return nil, err
	}
	return f, nil
}

func frameNonce(dst *[nonceSize]byte, base [nonceSize]byte, n uint64) {
	*dst = base
	x := binary.BigEndian.Uint64(dst[4:]) ^ n
	binary.BigEndian.PutUint64(dst[4:], x)
}

func (f *frameWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if len(f.buf) == 4+frameSize {
			if err := f.flush(false); err != nil {
				return 0, err
			}
		}
		c := copy(f.buf[len(f.buf):4+frameSize], p)
		f.buf = f.buf[:len(f.buf)+c]
		p = p[c:]
	}
	return total, nil
}

func (f *frameWriter) flush(final bool) error {
	frameNonce(&f.nonce, f.base, f.n)
	f.n++
	if final {
		f.aad[len(f.aad)-1] = 1
	}
	out := f.aead.Seal(f.buf[4:4], f.nonce[:], f.buf[4:], f.aad)
	l := uint32(len(out))
	if final {
		l |= frameFinalBit
	}
	binary.BigEndian.PutUint32(f.buf, l)
	_, err := f.dst.Write(f.buf[:4+len(out)])
	f.buf = f.buf[:4]
	return err
}

func (f *frameWriter) Close() error { return f.flush(true) }

// frameReader reverses frameWriter.
type frameReader struct {
	src   *bufio.Reader
	aead  cipher.AEAD
	base  [nonceSize]byte
	aad   []byte
	n     uint64
	plain []byte
	ct    []byte
	done  bool
	nonce [nonceSize]byte
}

var errTruncated = errors.New("truncated")

func newFrameReader(src *bufio.Reader, key, aad []byte) (*frameReader, error) {
	a, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	f := &frameReader{src: src, aead: a, aad: append(aad, 0)}
	if _, err := io.ReadFull(src, f.base[:]); err != nil {
		return nil, errTruncated
	}
	return f, nil
}

func (f *frameReader) Read(p []byte) (int, error) {
	for len(f.plain) == 0 {
		if f.done {
			if _, err := f.src.ReadByte(); err == nil {
				return 0, errors.New("data after the final frame")
			}
			return 0, io.EOF
		}
		var l [4]byte
		if _, err := io.ReadFull(f.src, l[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, errTruncated
			}
			return 0, err
		}
		n := binary.BigEndian.Uint32(l[:])
		final := n&frameFinalBit != 0
		n &^= frameFinalBit
		if n > maxFrameCipher || n < 16 {
			return 0, fmt.Errorf("bad frame length %d", n)
		}
		if cap(f.ct) < int(n) {
			f.ct = make([]byte, n)
		}
		f.ct = f.ct[:n]
		if _, err := io.ReadFull(f.src, f.ct); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, errTruncated
			}
			return 0, err
		}
		frameNonce(&f.nonce, f.base, f.n)
		f.n++
		if final {
			f.aad[len(f.aad)-1] = 1
		}
		pt, err := f.aead.Open(f.ct[:0], f.nonce[:], f.ct, f.aad)
		if err != nil {
			return 0, errors.New("authentication failed (wrong key, tampered or renamed object)")
		}
		f.plain = pt
		f.done = final
	}
	c := copy(p, f.plain)
	f.plain = f.plain[c:]
	return c, nil
}

// errUnsealFormat is wrapped with the object's name by callers.
type unsealError struct{ err error }

func (e *unsealError) Error() string { return e.err.Error() }
func (e *unsealError) Unwrap() error { return e.err }

// openSealed returns a reader of the plaintext of a sealed stream. Errors
// from the returned reader other than io.EOF mean the object is damaged;
// they are *unsealError.
func openSealed(src io.Reader, k *keys, kind byte, name string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(src, 256<<10)
	hdr := make([]byte, headerSize)
	if _, err := io.ReadFull(br, hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &unsealError{errTruncated}
		}
		return nil, err
	}
	if string(hdr[:4]) != sealMagic {
		return nil, &unsealError{errors.New("bad magic")}
	}
	if hdr[4] != sealVersion {
		return nil, &unsealError{fmt.Errorf("unknown sealed object version %d", hdr[4])}
	}
	if hdr[6] != kind {
		return nil, &unsealError{fmt.Errorf("object kind %d, want %d", hdr[6], kind)}
	}
	enc := hdr[5]&flagEncrypted != 0
	if enc != (k != nil) || hdr[5]&^(flagZstd|flagEncrypted) != 0 || hdr[7] != 0 {
		return nil, &unsealError{fmt.Errorf("object flags %#x do not match the repository", hdr[5])}
	}
	var body io.Reader = br
	if enc {
		fr, err := newFrameReader(br, k.Enc, append(hdr, name...))
		if err != nil {
			return nil, &unsealError{err}
		}
		body = fr
	}
	if hdr[5]&flagZstd == 0 {
		return io.NopCloser(&wrapErrs{r: body}), nil
	}
	zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(false))
	if err != nil {
		return nil, &unsealError{err}
	}
	return &zstdReadCloser{wrapErrs: wrapErrs{r: zr}, zr: zr}, nil
}

type wrapErrs struct{ r io.Reader }

func (w *wrapErrs) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil && err != io.EOF {
		var ue *unsealError
		if !errors.As(err, &ue) {
			err = &unsealError{err}
		}
	}
	return n, err
}

// zstdReadCloser decompresses; its errors are *unsealError.
type zstdReadCloser struct {
	wrapErrs
	zr *zstd.Decoder
}

func (z *zstdReadCloser) Close() error { z.zr.Close(); return nil }

// sealBytes seals a small object in memory.
func sealBytes(k *keys, kind byte, name string, plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := newSealWriter(&buf, k, kind, name, zstd.SpeedDefault)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unsealBytes opens a small sealed object held in memory.
func unsealBytes(k *keys, kind byte, name string, stored []byte) ([]byte, error) {
	r, err := openSealed(bytes.NewReader(stored), k, kind, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return b, nil
}
