package seal

import (
	"bytes"
	"testing"
)

func TestPINCheck(t *testing.T) {
	k, err := NewPINKey(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	real := k.Hash("c_1", "2468")
	duress := k.Hash("c_1", "1357")
	tests := []struct {
		name                 string
		caseID, pin          string
		real, duress         []byte
		wantReal, wantDuress bool
	}{
		{"real", "c_1", "2468", real, duress, true, false},
		{"duress", "c_1", "1357", real, duress, false, true},
		{"neither", "c_1", "0000", real, duress, false, false},
		{"other case", "c_2", "2468", real, duress, false, false},
		{"no duress set", "c_1", "2468", real, nil, true, false},
		{"no duress set, wrong", "c_1", "1357", real, nil, false, false},
		{"equal hashes: duress wins", "c_1", "2468", real, real, false, true},
		{"truncated stored hash", "c_1", "2468", real[:31], duress, false, false},
		{"nothing stored", "c_1", "2468", nil, nil, false, false},
		{"empty pin", "c_1", "", real, duress, false, false},
	}
	for _, tt := range tests {
		gotReal, gotDuress := k.Check(tt.caseID, tt.pin, tt.real, tt.duress)
		if gotReal != tt.wantReal || gotDuress != tt.wantDuress {
			t.Errorf("%s: Check = %v, %v; want %v, %v", tt.name, gotReal, gotDuress, tt.wantReal, tt.wantDuress)
		}
	}
}

func TestPINHash(t *testing.T) {
	k, _ := NewPINKey(bytes.Repeat([]byte{1}, 32))
	k2, _ := NewPINKey(bytes.Repeat([]byte{2}, 32))
	h := k.Hash("c_1", "2468")
	if len(h) != 32 {
		t.Fatalf("len = %d", len(h))
	}
	for name, other := range map[string][]byte{
		"other case":      k.Hash("c_2", "2468"),
		"other pin":       k.Hash("c_1", "2469"),
		"other key":       k2.Hash("c_1", "2468"),
		"moved separator": k.Hash("c_12", "468"),
	} {
		if bytes.Equal(h, other) {
			t.Errorf("%s: same hash", name)
		}
	}
	if !bytes.Equal(h, k.Hash("c_1", "2468")) {
		t.Error("Hash is not deterministic")
	}
	if _, err := NewPINKey(make([]byte, 31)); err == nil {
		t.Error("NewPINKey accepted a 31-byte key")
	}
}
