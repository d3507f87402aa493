package repository

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// FuzzOpenSealed: any stored bytes either open to the sealed plaintext or
// fail with an error; never a panic, never other plaintext.
func FuzzOpenSealed(f *testing.F) {
	k := &keys{Enc: bytes.Repeat([]byte{7}, 32), ID: make([]byte, 32), MAC: make([]byte, 32)}
	plain := []byte(`{"objects":[{"id":"x","rows":3}]}`)
	for _, kk := range []*keys{nil, k} {
		s, err := sealBytes(kk, kindIndex, "index/", plain)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s, kk != nil)
	}
	f.Add([]byte("DOPS\x01\x03\x02\x00"), true)
	f.Fuzz(func(t *testing.T, stored []byte, enc bool) {
		var kk *keys
		if enc {
			kk = k
		}
		r, err := openSealed(bytes.NewReader(stored), kk, kindIndex, "index/")
		if err != nil {
			return
		}
		got, err := io.ReadAll(io.LimitReader(r, 1<<20))
		r.Close()
		if err == nil && enc && !bytes.Equal(got, plain) {
			t.Fatalf("forged encrypted object opened to %q", got)
		}
	})
}

// FuzzManifest: any manifest bytes parse or fail; references of a parsed
// manifest are well-formed ids.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"format":1,"time":"2026-01-01T00:00:00Z","parent":null,"kind":"full","tags":[],"tables":[{"schema":"raw","name":"t","rows":1,"fingerprint":{"count":1},"data":{"mode":"full","parts":[{"id":"` +
		"ab" + string(bytes.Repeat([]byte("0"), 62)) + `","rows":1}]}}],"retention":{"lock_until":null}}`))
	f.Add([]byte(`{"tables":[{"data":{"mode":"delta","base":"zz","upserts":[{"id":1}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Manifest
		if json.Unmarshal(b, &m) != nil {
			return
		}
		refs, bases, err := manifestRefs(&m)
		if err != nil {
			return
		}
		for _, r := range refs {
			if !validID(r.Object) {
				t.Fatalf("bad ref %q", r.Object)
			}
		}
		for _, b := range bases {
			if !validID(b) {
				t.Fatalf("bad base %q", b)
			}
		}
		if _, _, err := encodeManifest(&m); err != nil {
			t.Fatalf("parsed manifest does not encode: %v", err)
		}
	})
}
