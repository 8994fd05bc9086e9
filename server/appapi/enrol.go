package appapi

import "net/http"

type appEnrolRequest struct {
	Code string `json:"code" validate:"required,max=32"`
}

type appEnrolView struct {
	Token    string `json:"token"`
	DeviceID string `json:"device_id"`
}

// Enrol is POST /v1/app/enrol: the disguised app trades a one-time code
// for its device token. A wrong, expired or used code is the same 404, and
// changes nothing.
func (s *Handlers) Enrol() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var req appEnrolRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		addr := s.ClientAddr(r)
		if err := s.enrol.allow(addr); err != nil {
			s.error(w, r, err)
			return
		}
		token, device, err := s.Cases.Enrol(r.Context(), req.Code)
		if err != nil {
			if isAppNotFound(err) {
				s.enrol.fail(addr)
			}
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, appEnrolView{Token: token, DeviceID: device})
	})
}
