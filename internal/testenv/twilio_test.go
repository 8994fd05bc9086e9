package testenv

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFakeTwilio(t *testing.T) {
	f := StartTwilio(t)
	if !strings.HasPrefix(f.AccountSID, "AC") || len(f.AccountSID) != 34 || len(f.AuthToken) != 32 {
		t.Fatalf("credentials %q / %d chars, want AC+32 hex and 32 hex", f.AccountSID, len(f.AuthToken))
	}
	c := &http.Client{Transport: f.Transport(), Timeout: 5 * time.Second}
	post := func(user, kind string, form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", "https://api.twilio.com/2010-04-01/Accounts/"+f.AccountSID+"/"+kind+".json", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, f.AuthToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	form := url.Values{"To": {"+447700900123"}, "From": {"+447700900001"}, "Body": {"hi"}}

	if code, m := post(f.AccountSID, "Messages", form); code != 201 || !strings.HasPrefix(m["sid"].(string), "SM") || m["status"] != "queued" {
		t.Errorf("message = %d %v", code, m)
	}
	if code, m := post(f.AccountSID, "Calls", form); code != 201 || !strings.HasPrefix(m["sid"].(string), "CA") {
		t.Errorf("call = %d %v", code, m)
	}
	if code, m := post("AC"+strings.Repeat("0", 32), "Messages", form); code != 401 || m["code"] != float64(20003) {
		t.Errorf("wrong credentials = %d %v", code, m)
	}
	f.Script(Reply{Status: 500}, Reply{Status: 400, Code: TwilioUnsubscribed})
	if code, m := post(f.AccountSID, "Messages", form); code != 500 || m["code"] != float64(TwilioInternal) {
		t.Errorf("scripted 500 = %d %v", code, m)
	}
	if code, m := post(f.AccountSID, "Messages", form); code != 400 || m["code"] != float64(TwilioUnsubscribed) || m["more_info"] == "" {
		t.Errorf("scripted 21610 = %d %v", code, m)
	}
	reqs := f.WaitRequests(5, time.Second)
	if len(reqs) != 5 || len(f.Messages()) != 4 || len(f.Calls()) != 1 {
		t.Fatalf("recorded %d requests (%d messages, %d calls), want 5 (4, 1)", len(reqs), len(f.Messages()), len(f.Calls()))
	}
	if r := reqs[0]; !r.Authorized || r.Form.Get("Body") != "hi" || r.Answered != 201 {
		t.Errorf("first request recorded as %+v", r)
	}
}
