package appapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/disguise"
	"waymark/problem"
	"waymark/server/directory"
	"waymark/server/respond"
	"waymark/signpost"
)

// The disguised app's hidden screens: its settings (opened with a PIN),
// forgetting the phone, and the directory search. Their answers carry
// their content as veiled JSON in one field, "v" (disguise.Veil), so that
// no word a service's name or a category holds appears in what the app
// listener serves: someone looking over the app's traffic or cache sees a
// blob. It is a disguise, not a secret (TLS protects it on the wire).

// appDrainLimit is how much of an oversized app body is read and thrown
// away before the 413 is sent: a client still writing when the server
// closes the connection sees a reset instead of the answer.
const appDrainLimit = 8 << 20

// Body answers 413 to an app request whose declared body is over the
// JSON limit, after reading it, and drains whatever a handler left unread
// (up to appDrainLimit), so a large body is answered, not reset.
func (s *Handlers) Body(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := r.Body
		defer io.CopyN(io.Discard, body, appDrainLimit)
		if r.ContentLength > respond.MaxJSONBody {
			if r.ContentLength <= appDrainLimit {
				io.CopyN(io.Discard, body, r.ContentLength)
			} else {
				w.Header().Set("Connection", "close")
			}
			s.error(w, r, problem.ErrTooLarge)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// NotFound answers every path the app listener does not serve when it
// has no app files: the same neutral 404.
func (s *Handlers) NotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, problem.ErrNotFound)
	})
}

// appEncoded writes v as the one field "v" holding veiled JSON
// (disguise.Veil: base32 that can spell no word).
func (s *Handlers) appEncoded(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.error(w, r, fmt.Errorf("server: encode app answer: %w", err))
		return
	}
	s.json(w, r, http.StatusOK, struct {
		V string `json:"v"`
	}{disguise.Veil(b)})
}

type appPINRequest struct {
	RequestID string  `json:"request_id" validate:"required"`
	PIN       *string `json:"pin"`
}

// appSettingsView is the decoded answer to POST /v1/app/open: OK is false
// for a wrong PIN; the schedule fields are zero when no check-ins are set.
type appSettingsView struct {
	OK           bool     `json:"ok"`
	EveryMinutes int      `json:"every_minutes,omitempty"`
	Times        []string `json:"times,omitempty"`
	GraceMinutes int      `json:"grace_minutes,omitempty"`
	WindowS      int      `json:"window_s,omitempty"`
}

// decodePIN reads an app request that carries a request id and a PIN.
func (s *Handlers) decodePIN(w http.ResponseWriter, r *http.Request) (appPINRequest, error) {
	var req appPINRequest
	if err := s.decode(w, r, &req); err != nil {
		return req, err
	}
	inv := &problem.Invalid{}
	checkAppRequestID(inv, req.RequestID, true)
	appPIN(inv, req.PIN)
	return req, inv.Err()
}

// Open is POST /v1/app/open: the app's hidden settings, opened with a
// PIN. The real and the duress PIN both answer the settings (the duress
// PIN must look like success, and raises a duress alert); a wrong PIN
// answers {"ok":false} and counts as wrong. Every answer is 200 with one
// encoded field.
func (s *Handlers) Open() http.Handler {
	return s.withApp(func(w http.ResponseWriter, r *http.Request, caseID string) {
		req, err := s.decodePIN(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		sched, pin, err := s.Alerts.AppSettings(r.Context(), caseID, alert.AppSignal{RequestID: req.RequestID, PIN: *req.PIN})
		if err != nil {
			s.error(w, r, err)
			return
		}
		v := appSettingsView{OK: pin == casework.PINReal || pin == casework.PINDuress}
		if v.OK {
			v.WindowS = int(s.Alerts.Rules().CancelWindow / time.Second)
			if sched != nil {
				v.EveryMinutes = int(sched.Every / time.Minute)
				v.Times = sched.Times
				v.GraceMinutes = int(sched.Grace / time.Minute)
			}
		}
		s.appEncoded(w, r, v)
	})
}

// Forget is DELETE /v1/app/device: "forget this phone". With the real
// PIN the device's token stops working and the case screen shows that the
// phone removed it; the duress PIN raises a duress alert and keeps the
// device (whoever forces it gains nothing); a wrong PIN counts as wrong.
// The phone clears itself whatever the answer, which is always 202.
func (s *Handlers) Forget() http.Handler {
	return s.withDevice(func(w http.ResponseWriter, r *http.Request, caseID, deviceID string) {
		req, err := s.decodePIN(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		_, pin, err := s.Alerts.AppSettings(r.Context(), caseID, alert.AppSignal{RequestID: req.RequestID, PIN: *req.PIN})
		if err != nil {
			s.error(w, r, err)
			return
		}
		// The answer goes out first, the same for every PIN, so its time
		// does not tell the real PIN from the duress one.
		s.appAccepted(w)
		if pin != casework.PINReal {
			return
		}
		http.NewResponseController(w).Flush()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
		defer cancel()
		if err := s.Cases.ForgetDevice(ctx, caseID, deviceID); err != nil && !isAppNotFound(err) {
			// The phone has forgotten its token already; the device stays
			// listed on the case screen, where a caseworker can revoke it.
			s.Logger.Warn("device not forgotten", "request_id", respond.RequestID(r), "device", deviceID, "err", err)
		}
	})
}

// FindView is the decoded answer to GET /v1/app/find.
type FindView struct {
	Categories []appCategory `json:"categories"`
	Services   []appService  `json:"services"`
	// Area is the searched postcode's district or sector, when known.
	Area string `json:"area,omitempty"`
}

type appCategory struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

type appService struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Phone       string   `json:"phone,omitempty"`
	URL         string   `json:"url,omitempty"`
	DistanceKm  *float64 `json:"distance_km,omitempty"`
	OpenNow     bool     `json:"open_now"`
	National    bool     `json:"national,omitempty"`
	Categories  []string `json:"categories,omitempty"`
}

// appFindLimit caps the services one answer lists: a phone screen.
const appFindLimit = 10

// Find is GET /v1/app/find?postcode=&category=&open_now=&q=: the
// directory search for an enrolled app, whatever the deployment's
// directory setting, with the same parameters as /v1/directory/search
// (postcode is the app's name for near). The answer is encoded.
func (s *Handlers) Find() http.Handler {
	return s.withApp(func(w http.ResponseWriter, r *http.Request, _ string) {
		ix := directory.Current(s.Directory)
		if ix == nil {
			s.error(w, r, directory.ErrNotReady)
			return
		}
		vals := r.URL.Query()
		if pc := vals.Get("postcode"); pc != "" {
			vals.Del("postcode")
			vals.Set("near", pc)
		}
		if vals.Get("limit") == "" {
			vals.Set("limit", fmt.Sprint(appFindLimit))
		}
		q, probs := signpost.ParseQuery(vals)
		if len(probs) > 0 {
			s.error(w, r, directory.InvalidQuery(probs))
			return
		}
		res, err := ix.Search(q, s.Now())
		if err != nil {
			s.error(w, r, directory.SearchError(err))
			return
		}
		v := FindView{Categories: appCategories(), Services: []appService{}}
		if res.Origin != nil {
			v.Area = res.Origin.Area
		}
		for _, x := range res.Results {
			a := appService{ID: x.ID, Name: x.Name, Description: x.Description, URL: x.URL,
				DistanceKm: x.DistanceKm, OpenNow: x.OpenNow, National: x.National}
			if x.Gateway != nil && x.Gateway.Phone != "" {
				a.Phone = x.Gateway.Phone
			} else if len(x.Phones) > 0 {
				a.Phone = x.Phones[0].Number
			}
			for _, c := range x.Categories {
				a.Categories = append(a.Categories, string(c))
			}
			v.Services = append(v.Services, a)
		}
		s.appEncoded(w, r, v)
	})
}

// appCategoryLabels are the plain words the app shows for each category.
var appCategoryLabels = map[signpost.Category]string{
	signpost.CategoryHelpline:             "Helplines",
	signpost.CategoryRefuge:               "Refuges (safe places to stay)",
	signpost.CategoryIDVAISVA:             "Advocates (IDVA and ISVA)",
	signpost.CategoryOutreach:             "Outreach and support",
	signpost.CategoryPerpetratorProgramme: "For people who want to stop harming",
	signpost.CategoryChildrenYoungPeople:  "Children and young people",
	signpost.CategoryMaleVictims:          "Men",
	signpost.CategoryLGBT:                 "LGBT+",
	signpost.CategoryForcedMarriageHonour: "Forced marriage and honour-based abuse",
	signpost.CategorySexualViolence:       "Sexual violence",
	signpost.CategorySanctuaryScheme:      "Sanctuary schemes (making your home safer)",
	signpost.CategoryLegal:                "Legal advice",
	signpost.CategoryHousing:              "Housing",
	signpost.CategoryMentalHealth:         "Mental health",
	signpost.CategorySubstanceUse:         "Drugs and alcohol",
	signpost.CategoryEmergency:            "Emergency",
	signpost.CategoryDomesticAbuse:        "Domestic abuse support",
	signpost.CategoryStalking:             "Stalking",
}

func appCategories() []appCategory {
	var out []appCategory
	for _, c := range signpost.Categories() {
		label, ok := appCategoryLabels[c]
		if !ok {
			label = strings.ReplaceAll(string(c), "-", " ")
		}
		out = append(out, appCategory{ID: string(c), Label: label})
	}
	return out
}
