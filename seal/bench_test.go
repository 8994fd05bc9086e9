package seal

import (
	"bytes"
	"testing"
)

// benchPlaintext is about the size of a sealed case record.
var benchPlaintext = bytes.Repeat([]byte("n"), 256)

func BenchmarkSeal(b *testing.B) {
	ring := testRing(b, testKey("k1", 1))
	b.SetBytes(int64(len(benchPlaintext)))
	for b.Loop() {
		if _, err := ring.Seal(benchPlaintext, adCase); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	ring := testRing(b, testKey("k1", 1))
	ct, _ := ring.Seal(benchPlaintext, adCase)
	b.SetBytes(int64(len(benchPlaintext)))
	for b.Loop() {
		if _, err := ring.Open(ct, adCase); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDataKeyOpen(b *testing.B) {
	ring := testRing(b, testKey("k1", 1))
	dk, _, _ := ring.NewDataKey(adCase)
	ct, _ := dk.Seal(benchPlaintext, adCase)
	b.SetBytes(int64(len(benchPlaintext)))
	for b.Loop() {
		if _, err := dk.Open(ct, adCase); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnwrapDataKey(b *testing.B) {
	ring := testRing(b, testKey("k1", 1))
	_, w, _ := ring.NewDataKey(adCase)
	for b.Loop() {
		if _, err := ring.UnwrapDataKey(w, adCase); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPINCheck(b *testing.B) {
	k, _ := NewPINKey(bytes.Repeat([]byte{1}, 32))
	real, duress := k.Hash("c_1", "2468"), k.Hash("c_1", "1357")
	for b.Loop() {
		k.Check("c_1", "1357", real, duress)
	}
}

func BenchmarkIndexPhone(b *testing.B) {
	idx, _ := NewIndex(bytes.Repeat([]byte{1}, 32), 14)
	p := mustPhone(b, "07700 900123")
	for b.Loop() {
		idx.Phone(p)
	}
}
