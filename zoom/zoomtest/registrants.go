package zoomtest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Registrants: POST and GET /meetings/{meetingId}/registrants, as Zoom
// answers them. Registration is on for a scheduled meeting (type 2) or a
// recurring one with a fixed time (type 8) whose settings.approval_type is
// 0 (automatic approval) or 1 (manual); Zoom keeps a type 3 meeting at 2
// (no registration) whatever is sent.

// Registrant is a meeting's registrant in the fake.
type Registrant struct {
	ID        string
	MeetingID int64
	Email     string
	FirstName string
	LastName  string
	Status    string // "approved", or "pending" for a meeting with manual approval
	JoinURL   string // the registrant's own link: https://zoom.us/w/{meetingId}?tk=...
	// OccurrenceIDs are the occurrences registered for; nil for all (or a
	// meeting without occurrences).
	OccurrenceIDs []string
	CreateTime    string
}

// registrant is a stored registrant.
type registrant struct {
	Registrant
	pin    int64
	fields map[string]any // the optional fields as sent (address, city, ...)
}

// registrantKey counts a registrant's add requests per meeting per UTC day.
type registrantKey struct {
	meetingID int64
	email     string // lower-cased
	day       string
}

// maxRegistrants is Zoom's limit of registrants per meeting.
const maxRegistrants = 4999

// registrantDailyLimit is how many add requests Zoom takes per day (UTC)
// for the same registrant of the same meeting.
const registrantDailyLimit = 3

// The optional string fields of Zoom's add-registrant body, with their
// allowed values where the schema has an enum.
var registrantStrings = map[string][]string{
	"address": nil, "city": nil, "state": nil, "zip": nil, "country": nil, "phone": nil,
	"comments": nil, "industry": nil, "job_title": nil, "org": nil,
	"purchasing_time_frame":    {"", "Within a month", "1-3 months", "4-6 months", "More than 6 months", "No timeframe"},
	"role_in_purchase_process": {"", "Decision Maker", "Evaluator/Recommender", "Influencer", "Not involved"},
	"no_of_employees": {"", "1-20", "21-50", "51-100", "101-250", "251-500", "101-500", "500-1,000", "501-1,000",
		"1,001-5,000", "5,001-10,000", "More than 10,000"},
	"language": {"en-US", "de-DE", "es-ES", "fr-FR", "jp-JP", "pt-PT", "ru-RU", "zh-CN", "zh-TW", "ko-KO",
		"it-IT", "vi-VN", "pl-PL", "Tr-TR"},
}

// registrantInput is a checked add-registrant body.
type registrantInput struct {
	email, first, last string
	autoApprove        bool
	fields             map[string]any
}

// parseRegistrant checks an add-registrant body against Zoom's schema:
// email (at most 128 characters) and first_name (at most 64) are required.
func parseRegistrant(obj map[string]any) (registrantInput, *answer) {
	var in registrantInput
	var errs problems
	email, present, ok := strField(obj, "email")
	if !present || !ok || len(email) > 128 || !validEmail(email) {
		errs.invalid("email")
	}
	first, present := nameField(obj, "", "first_name", errs.invalid)
	if !present && !slices.ContainsFunc(errs, func(f fieldError) bool { return f.Field == "first_name" }) {
		errs.invalid("first_name")
	}
	last, _ := nameField(obj, "", "last_name", errs.invalid)
	in.email, in.first, in.last = email, first, last
	in.fields = map[string]any{}
	for k, allowed := range registrantStrings {
		v, present, ok := strField(obj, k)
		switch {
		case !ok || (present && allowed != nil && !slices.Contains(allowed, v)):
			errs.invalid(k)
		case present:
			in.fields[k] = v
		}
	}
	if v, there := obj["auto_approve"]; there && v != nil {
		b, ok := asBool(v)
		if !ok {
			errs.invalid("auto_approve")
		}
		in.autoApprove = b
	}
	if v, there := obj["custom_questions"]; there && v != nil {
		qs, ok := v.([]any)
		for _, q := range qs {
			qo, isObj := q.(map[string]any)
			val, _, valOK := strField(qo, "value")
			_, _, titleOK := strField(qo, "title")
			ok = ok && isObj && valOK && titleOK && len([]rune(val)) <= 128
		}
		if !ok {
			errs.invalid("custom_questions")
		} else {
			in.fields["custom_questions"] = qs
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b fieldError) int { return strings.Compare(a.Field, b.Field) })
		a := validationFailed(errs...)
		return in, &a
	}
	return in, nil
}

// registrationOn reports whether a meeting takes registrants.
func registrationOn(m *meeting) bool {
	at := m.approvalType()
	return (m.typ == 2 || m.typ == 8) && (at == 0 || at == 1)
}

// approvalType is settings.approval_type (normalizeSettings keeps it an
// int64; the defaults hold an int).
func (m *meeting) approvalType() int64 {
	switch x := m.settings["approval_type"].(type) {
	case int:
		return int64(x)
	case int64:
		return x
	}
	return 2
}

// registrationMeetingLocked resolves the {meetingId} path parameter of a
// registrants request: Zoom's 404 code 3001 for no such meeting, 404 code
// 404 for one without registration.
func (s *Server) registrationMeetingLocked(c *call) (*meeting, *answer) {
	m, bad := s.meetingFromPathLocked(c)
	if bad != nil {
		return nil, bad
	}
	if !registrationOn(m) {
		a := zoomError(http.StatusNotFound, http.StatusNotFound,
			"Registration has not been enabled for this meeting: "+strconv.FormatInt(m.id, 10)+".")
		return nil, &a
	}
	return m, nil
}

// addRegistrant is POST /meetings/{meetingId}/registrants[?occurrence_ids=]:
// 201 {id (the meeting), registrant_id, join_url (left out while the
// registrant waits for manual approval), topic, start_time,
// participant_pin_code, occurrences}. An email already registered for the
// meeting gets the registrant it has. Each registrant may be added 3 times
// a day (UTC) per meeting; a 4th is Zoom's 429.
func (s *Server) addRegistrant(c *call) answer {
	obj, bad := readObject(c.r)
	if bad != nil {
		return *bad
	}
	in, inErr := parseRegistrant(obj)

	return onPath(s, c, s.registrationMeetingLocked, func(m *meeting) answer {
		if inErr != nil {
			return *inErr
		}
		if strings.EqualFold(in.email, m.hostEmail) {
			return zoomError(http.StatusBadRequest, 3027, "Host can not register")
		}
		var occIDs []string
		if v := c.r.URL.Query().Get("occurrence_ids"); v != "" && len(m.occurrences) > 0 {
			for id := range strings.SplitSeq(v, ",") {
				id = strings.TrimSpace(id)
				if findOccurrence(m, id) < 0 {
					return invalidParameter("occurrence_ids")
				}
				occIDs = append(occIDs, id)
			}
		}

		now := s.now()
		key := registrantKey{m.id, strings.ToLower(in.email), utcDay(now)}
		if !c.portal {
			if s.registrantAdds[key] >= registrantDailyLimit {
				h := http.Header{}
				h.Set("X-RateLimit-Type", "Daily-limit")
				h.Set("X-RateLimit-Limit", strconv.Itoa(registrantDailyLimit))
				h.Set("X-RateLimit-Remaining", "0")
				return answer{status: http.StatusTooManyRequests, header: h, body: errorBody{Code: http.StatusTooManyRequests,
					Message: "You have exceeded the daily rate limit of (" + strconv.Itoa(registrantDailyLimit) +
						") for Add meeting registrant API requests for the registrant (" + in.email +
						"). You can resume these API requests at GMT 00:00:00."}}
			}
			for k := range s.registrantAdds {
				if k.day != key.day {
					delete(s.registrantAdds, k)
				}
			}
			s.registrantAdds[key]++
		}

		regs := s.registrants[m.id]
		i := slices.IndexFunc(regs, func(r *registrant) bool { return strings.EqualFold(r.Email, in.email) })
		var r *registrant
		if i >= 0 {
			r = regs[i] // Zoom answers with the registrant the email already is
		} else {
			if len(regs) >= maxRegistrants {
				return zoomError(http.StatusBadRequest, 3043, "Meeting has reached maximum attendee capacity.")
			}
			r = &registrant{Registrant: Registrant{
				ID: s.randID(), MeetingID: m.id, Email: in.email, FirstName: in.first, LastName: in.last,
				Status: "approved", OccurrenceIDs: occIDs, CreateTime: formatTime(now),
			}, pin: 100_000 + s.rng.Int64N(900_000), fields: in.fields}
			if m.approvalType() == 1 && !in.autoApprove {
				r.Status = "pending"
			}
			r.JoinURL = "https://zoom.us/w/" + strconv.FormatInt(m.id, 10) + "?tk=" + s.randString(43, alnum+"-_")
			if m.password != "" {
				r.JoinURL += "&pwd=" + m.encryptedPassword
			}
			s.registrants[m.id] = append(regs, r)
			if !c.portal {
				s.stats.RegistrantsAdded++
			}
		}
		b := map[string]any{
			"id":                   m.id,
			"registrant_id":        r.ID,
			"topic":                m.topic,
			"participant_pin_code": r.pin,
		}
		if !m.start.IsZero() {
			b["start_time"] = formatTime(m.start)
		}
		if r.Status == "approved" {
			b["join_url"] = r.JoinURL
		}
		if occs := r.occurrencesOf(m); occs != nil {
			b["occurrences"] = occs
		}
		return answer{status: http.StatusCreated, body: b}
	})
}

// occurrencesOf lists the occurrences r is registered for, as the add
// answer carries them; nil for a meeting without occurrences.
func (r *registrant) occurrencesOf(m *meeting) []map[string]any {
	if len(m.occurrences) == 0 {
		return nil
	}
	out := []map[string]any{}
	for _, o := range m.occurrences {
		if r.OccurrenceIDs == nil || slices.Contains(r.OccurrenceIDs, o.id) {
			out = append(out, o.body())
		}
	}
	return out
}

// listItem is the registrant as GET /meetings/{meetingId}/registrants lists it.
func (r *registrant) listItem() map[string]any {
	b := map[string]any{
		"id":                   r.ID,
		"email":                r.Email,
		"first_name":           r.FirstName,
		"last_name":            r.LastName,
		"status":               r.Status,
		"create_time":          r.CreateTime,
		"join_url":             r.JoinURL,
		"participant_pin_code": r.pin,
		"custom_questions":     []any{},
	}
	for k, v := range r.fields {
		b[k] = v
	}
	return b
}

var registrantStatuses = []string{"pending", "approved", "denied"}

// listRegistrants is GET /meetings/{meetingId}/registrants?status=
// &occurrence_id=&page_size=&next_page_token=: one page of the meeting's
// registrants of that status (default approved), in the order they
// registered, page_size 1..300 (default 30), page tokens good for 15
// minutes.
func (s *Server) listRegistrants(c *call) answer {
	q := c.r.URL.Query()
	lq, bad := readListQuery(q, "status", "approved", registrantStatuses)
	if bad != nil {
		return *bad
	}
	status, occ := lq.filter, q.Get("occurrence_id")

	return onPath(s, c, s.registrationMeetingLocked, func(m *meeting) answer {
		regs := s.registrants[m.id]
		p, bad := nextPageLocked(s, s.regPages, s.now(), lq, strconv.FormatInt(m.id, 10)+"\x00"+status+"\x00"+occ,
			func() []string {
				var ids []string
				for _, r := range regs {
					if r.Status == status && (occ == "" || r.OccurrenceIDs == nil || slices.Contains(r.OccurrenceIDs, occ)) {
						ids = append(ids, r.ID)
					}
				}
				return ids
			},
			func(id string) (map[string]any, bool) {
				i := slices.IndexFunc(regs, func(r *registrant) bool { return r.ID == id })
				if i < 0 {
					return nil, false
				}
				return regs[i].listItem(), true
			})
		if bad != nil {
			return *bad
		}
		return answer{status: http.StatusOK, body: p.body("registrants")}
	})
}

// Registrants returns a meeting's registrants in the order they
// registered; none for an unknown meeting.
func (s *Server) Registrants(meetingID int64) []Registrant {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Registrant
	for _, r := range s.registrants[meetingID] {
		reg := r.Registrant
		reg.OccurrenceIDs = slices.Clone(r.OccurrenceIDs)
		out = append(out, reg)
	}
	return out
}
