package testenv

import (
	"crypto/ecdh"
	"encoding/base64"
	"testing"
)

// TestDecryptPushRFC8291Example: the fake's decryption undoes RFC 8291
// Appendix A's message with the user agent's keys given there.
func TestDecryptPushRFC8291Example(t *testing.T) {
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ua, err := ecdh.P256().NewPrivateKey(dec("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	body := dec("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
	got, err := decryptPush(ua, dec("BTBZMqHH6r4Tts7J_aSIgg"), body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "When I grow up, I want to be a watermelon" {
		t.Errorf("decrypted %q", got)
	}
	body[len(body)-1] ^= 1
	if _, err := decryptPush(ua, dec("BTBZMqHH6r4Tts7J_aSIgg"), body); err == nil {
		t.Error("a tampered message decrypted")
	}
}
